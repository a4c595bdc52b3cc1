# Reference numbers for tests/forests (run from the repository root:
#   Rscript tests/data/forests_make_reference.R
# with Debian's r-cran-strucchange, r-cran-lavaan). The tests never call R.
#
# 1. strucchange's p-values: supLM (Hansen 1997 approximation), ordL2BB (simulated).
# 2. Score-based tests of parameter instability (Merkle & Zeileis 2013) of a linear growth
#    model fitted with lavaan on tests/data/forests_scoretest_data.csv: supLM (maxLM),
#    ordL2BB (maxLMo) and catL2BB (LM) statistics, with the outer-product (gefp's
#    default) and the observed information; likelihood ratios of fixed splits.
suppressPackageStartupMessages({library(strucchange); library(lavaan)})
out <- data.frame()
for (k in c(1, 2, 3, 5, 6, 10, 20)) for (from in c(0.15, 0.1)) {
  f <- supLM(from)
  for (x in c(2, 4, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60))
    out <- rbind(out, data.frame(k = k, from = from, x = x, p = f$computePval(x, nproc = k)))
}
write.csv(out, "tests/data/forests_suplm_strucchange.csv", row.names = FALSE)

set.seed(1)
out <- data.frame()
for (k in c(1, 3, 6)) {
  freq <- c(0.2, 0.3, 0.1, 0.25, 0.15)
  f <- ordL2BB(freq, nproc = k, nrep = 200000)
  for (x in c(2, 5, 8, 10, 12, 15, 20))
    out <- rbind(out, data.frame(k = k, x = x, p = f$computePval(x, nproc = k)))
}
write.csv(out, "tests/data/forests_ordl2bb_strucchange.csv", row.names = FALSE)

d <- read.csv("tests/data/forests_scoretest_data.csv")
model <- "
i =~ 1*X1 + 1*X2 + 1*X3 + 1*X4 + 1*X5
s =~ 0*X1 + 1*X2 + 2*X3 + 3*X4 + 4*X5
i ~ 1
s ~ 1
X1 ~ 0*1
X2 ~ 0*1
X3 ~ 0*1
X4 ~ 0*1
X5 ~ 0*1
"
fit <- lavaan::growth(model, data = d, information = "observed")
n <- nobs(fit)
sc <- function(x, ...) lavScores(x)
res <- data.frame()
for (info in c("opg", "observed")) {
  vc <- if (info == "opg") NULL else function(x, ...) solve(vcov(x) * n)
  gz <- gefp(fit, fit = NULL, scores = sc, order.by = d$z, vcov = vc, sandwich = FALSE)
  f <- supLM(0.15)
  s <- f$computeStatistic(gz$process)
  res <- rbind(res, data.frame(info = info, covariate = "z", test = "maxLM", statistic = s,
                               p = f$computePval(s, nproc = ncol(gz$process))))
  go <- gefp(fit, fit = NULL, scores = sc, order.by = d$o, vcov = vc, sandwich = FALSE)
  f <- ordL2BB(factor(d$o, ordered = TRUE), nproc = ncol(go$process), nrep = 100000)
  s <- f$computeStatistic(go$process)
  res <- rbind(res, data.frame(info = info, covariate = "o", test = "maxLMo", statistic = s,
                               p = f$computePval(s, nproc = ncol(go$process))))
  gg <- gefp(fit, fit = NULL, scores = sc, order.by = factor(d$g), vcov = vc,
             sandwich = FALSE)
  f <- catL2BB(factor(d$g))
  s <- f$computeStatistic(gg$process)
  res <- rbind(res, data.frame(info = info, covariate = "g", test = "LM", statistic = s,
                               p = f$computePval(s, nproc = ncol(gg$process))))
}
ll <- function(sub) as.numeric(logLik(lavaan::growth(model, data = sub)))
l0 <- as.numeric(logLik(fit))
for (lev in c("a", "b", "c")) {
  lr <- 2 * (ll(d[d$g == lev, ]) + ll(d[d$g != lev, ]) - l0)
  res <- rbind(res, data.frame(info = "", covariate = "g", test = paste0("LR in ", lev),
                               statistic = lr, p = NA))
}
lr <- 2 * (ll(d[d$z > 0.3, ]) + ll(d[d$z <= 0.3, ]) - l0)
res <- rbind(res, data.frame(info = "", covariate = "z", test = "LR > 0.3",
                             statistic = lr, p = NA))
res <- rbind(res, data.frame(info = "", covariate = "", test = "loglik", statistic = l0,
                             p = NA))
write.csv(res, "tests/data/forests_scoretest_strucchange.csv", row.names = FALSE)
print(res)
print(coef(fit))
