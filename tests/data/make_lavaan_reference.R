# Reference numbers for tests/sem: lavaan 0.6.14 (R 4.2, Debian r-cran-lavaan).
# Run from tests/data:  Rscript make_lavaan_reference.R
# The tests never need R; they read the CSV files written here.
suppressMessages(library(lavaan))
stopifnot(packageVersion("lavaan") == "0.6.14")
hs  <- read.csv("../../sem/datasets/HolzingerSwineford1939.csv")
pd  <- read.csv("../../sem/datasets/PoliticalDemocracy.csv")
hsm <- read.csv("../../sem/datasets/hs_missing.csv")   # HS with 11% of x1..x9 deleted completely at random

HS <- "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
PD <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"
FM <- c("npar","fmin","chisq","df","pvalue","baseline.chisq","baseline.df","cfi","tli",
        "nfi","logl","unrestricted.logl","aic","bic","bic2","rmsea","rmsea.ci.lower",
        "rmsea.ci.upper","rmsea.pvalue","srmr")
dump <- function(fit, name) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  write.csv(pe, sprintf("lavaan_%s_estimates.csv", name), row.names = FALSE)
  fm <- fitMeasures(fit, FM)
  write.csv(data.frame(measure = names(fm), value = as.numeric(fm)),
            sprintf("lavaan_%s_fit.csv", name), row.names = FALSE)
  ss <- standardizedSolution(fit)
  write.csv(ss, sprintf("lavaan_%s_std.csv", name), row.names = FALSE)
}
dump(cfa(HS, data = hs), "hs")
dump(cfa(HS, data = hs, information = "observed"), "hs_observed")
dump(cfa(HS, data = hs, estimator = "MLR"), "hs_mlr")
dump(sem(PD, data = pd), "pd")
dump(cfa(HS, data = hsm, missing = "ml"), "hs_fiml")
dump(sem("ind60 =~ x1 + x2 + x3; dem60 =~ y1 + y2 + y3 + y4; dem60 ~ g*ind60
          g2 := 2*g", data = pd, meanstructure = TRUE), "pd_small")
# a path model with exogenous covariates (fixed.x) and a defined indirect effect
dump(sem("y4 ~ a*x1 + x2; y8 ~ b*y4 + x1; ab := a*b", data = pd), "path")
# lavaan's default optimizer tolerance leaves PD's estimates ~1e-4 from the optimum
# (its logl is 2e-8 below ours); a tight run is the precise reference.
dump(sem(PD, data = pd, optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 10000)), "pd_tight")
# fixed.x with a covariate missing under FIML: lavaan deletes those cases (x1 misses in
# 36 rows) and warns; fixed.x = FALSE frees the covariates' variances and covariances
XM <- "x4 ~ x1 + ageyr; x7 ~ x4 + x1"
dump(suppressWarnings(sem(XM, data = hsm, missing = "ml")), "xmiss_fiml")
dump(sem(XM, data = hsm, missing = "ml", fixed.x = FALSE), "randomx_fiml")
dump(sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6
          textual ~ visual + ageyr + sex; x9 ~ ageyr", data = hs, fixed.x = FALSE), "randomx")
# R² (lavInspect "r2") of the PD tutorial model (tight, as pd_tight) and the path model
r2 <- function(fit, name) {
  v <- lavInspect(fit, "r2")
  write.csv(data.frame(variable = names(v), r2 = as.numeric(v)),
            sprintf("lavaan_%s_r2.csv", name), row.names = FALSE)
}
r2(sem(PD, data = pd, optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 10000)),
   "pd")
r2(sem("y4 ~ a*x1 + x2; y8 ~ b*y4 + x1; ab := a*b", data = pd), "path")
# anova (chi-square difference tests) of three nested HS CFAs; visual's loading on x9
# comes in a second statement (its marker stays x1)
a <- cfa(HS, data = hs)
b <- cfa(HS, data = hs, orthogonal = TRUE)
c <- cfa(paste(HS, "; visual =~ x9"), data = hs)
tab <- as.data.frame(anova(a, b, c))
write.csv(cbind(model = rownames(tab), tab), "lavaan_hs_anova.csv", row.names = FALSE)
# modification indices (expected information, lavaan's defaults)
mi <- function(fit, name)
  write.csv(modindices(fit), sprintf("lavaan_%s_modindices.csv", name), row.names = FALSE)
mi(a, "hs")
mi(cfa("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", data = hs, orthogonal = TRUE),
   "orth")
mi(sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; visual ~ ageyr; textual ~ sex",
       data = hs), "mimic")
mi(sem("x4 ~ x1 + ageyr; x7 ~ x4", data = hs), "xpath")
mi(cfa(HS, data = hsm, missing = "ml"), "hs_fiml")
# MLR: the Yuan-Bentler (Mplus) scaled test and lavaan's *.scaled indices
SC <- c("chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
        "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
        "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "nfi.scaled",
        "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
        "rmsea.pvalue.scaled")
sc <- rbind(fitMeasures(cfa(HS, data = hs, estimator = "MLR"), SC),
            fitMeasures(cfa(HS, data = hsm, estimator = "MLR", missing = "ml"), SC),
            fitMeasures(sem("y4 ~ x1 + x2; y8 ~ y4 + x1", data = pd, estimator = "MLR"), SC))
write.csv(cbind(case = c("hs", "hs_fiml", "path"), as.data.frame(sc)),
          "lavaan_mlr_scaled.csv", row.names = FALSE)
# the Satorra-Bentler (2001) scaled difference test of the same models fitted by MLR
tab <- as.data.frame(anova(cfa(HS, data = hs, estimator = "MLR"),
                           cfa(HS, data = hs, orthogonal = TRUE, estimator = "MLR"),
                           cfa(paste(HS, "; visual =~ x9"), data = hs, estimator = "MLR")))
write.csv(cbind(model = c("c", "a", "b"), tab), "lavaan_hs_anova_mlr.csv", row.names = FALSE)
# factor scores (regression method), complete data and FIML
write.csv(lavPredict(a), "lavaan_hs_factor_scores.csv", row.names = FALSE)
write.csv(lavPredict(cfa(HS, data = hsm, missing = "ml")), "lavaan_hs_fiml_factor_scores.csv",
          row.names = FALSE)
# residuals (raw, cor.bollen, normalized), complete data and FIML
res <- function(fit, name) for (ty in c("raw", "cor", "normalized")) {
  r <- residuals(fit, type = ty)
  write.csv(r$cov, sprintf("lavaan_%s_resid_%s.csv", name, ty))
  if (!is.null(r$mean))
    write.csv(data.frame(variable = names(r$mean), mean = as.numeric(r$mean)),
              sprintf("lavaan_%s_resid_%s_mean.csv", name, ty), row.names = FALSE)
}
res(a, "hs")
res(cfa(HS, data = hsm, missing = "ml"), "hs_fiml")
# Bartlett factor scores (complete, FIML) and both kinds for the PD model (latent regressions)
write.csv(lavPredict(a, method = "Bartlett"), "lavaan_hs_bartlett_scores.csv", row.names = FALSE)
write.csv(lavPredict(cfa(HS, data = hsm, missing = "ml"), method = "Bartlett"),
          "lavaan_hs_fiml_bartlett_scores.csv", row.names = FALSE)
pdfit <- sem(PD, data = pd, optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 10000))
write.csv(lavPredict(pdfit), "lavaan_pd_factor_scores.csv", row.names = FALSE)
write.csv(lavPredict(pdfit, method = "Bartlett"), "lavaan_pd_bartlett_scores.csv",
          row.names = FALSE)
# Wald tests of constraints on labelled parameters (lavTestWald), ML and MLR
WM <- "ind60 =~ x1 + x2 + x3
       dem60 =~ y1 + a*y2 + b*y3 + c*y4
       dem65 =~ y5 + d*y6 + e*y7 + f*y8
       dem60 ~ g*ind60
       dem65 ~ h*ind60 + dem60
       ab := a*b"
wald <- function(est) {
  f <- sem(WM, data = pd, estimator = est, optim.method = "BFGS",
           control = list(reltol = 1e-16, maxit = 10000))
  do.call(rbind, lapply(c("a == d; b == e; c == f", "g == 2*h", "ab == 1"), function(k) {
    w <- lavTestWald(f, constraints = k)
    data.frame(estimator = est, constraints = k, stat = w$stat, df = w$df,
               pvalue = w$p.value)
  }))
}
write.csv(rbind(wald("ML"), wald("MLR")), "lavaan_pd_wald.csv", row.names = FALSE)
# multiple groups (school): configural, metric and scalar invariance, and their anova
inv <- list(configural = "", metric = "loadings",
            scalar = c("loadings", "intercepts"))
fits <- lapply(inv, function(ge) cfa(HS, data = hs, group = "school", group.equal = ge))
for (nm in names(fits)) {
  write.csv(parameterEstimates(fits[[nm]], standardized = TRUE),
            sprintf("lavaan_hs_school_%s_estimates.csv", nm), row.names = FALSE)
  fm <- fitMeasures(fits[[nm]], FM)
  write.csv(data.frame(measure = names(fm), value = as.numeric(fm)),
            sprintf("lavaan_hs_school_%s_fit.csv", nm), row.names = FALSE)
}
tab <- as.data.frame(anova(fits$configural, fits$metric, fits$scalar))
write.csv(cbind(model = names(fits), tab), "lavaan_hs_school_anova.csv", row.names = FALSE)
mgf <- cfa(HS, data = hsm, group = "school", missing = "ml", group.equal = "loadings")
write.csv(parameterEstimates(mgf, standardized = TRUE),
          "lavaan_hs_school_fiml_metric_estimates.csv", row.names = FALSE)
fm <- fitMeasures(mgf, FM)
write.csv(data.frame(measure = names(fm), value = as.numeric(fm)),
          "lavaan_hs_school_fiml_metric_fit.csv", row.names = FALSE)
# --- review: multiple groups with std.lv, free covariates, FIML with a missing covariate;
# modindices with an endogenous latent and with fixed.x = FALSE
rdump <- function(fit, name) {
  write.csv(parameterEstimates(fit, standardized = TRUE),
            sprintf("lavaan_review_%s_estimates.csv", name), row.names = FALSE)
  fm <- fitMeasures(fit, FM)
  write.csv(data.frame(measure = names(fm), value = as.numeric(fm)),
            sprintf("lavaan_review_%s_fit.csv", name), row.names = FALSE)
}
# std.lv with equal loadings: the latent variances are free after the first group
rdump(cfa(HS, data = hs, group = "school", std.lv = TRUE, group.equal = "loadings"),
      "school_stdlv_metric")
# fixed.x = FALSE: the baseline keeps the covariates' covariances in every group
hsg <- hs[!is.na(hs$grade), ]
rdump(cfa(paste(HS, "; visual ~ ageyr + grade"), data = hsg, group = "school",
          group.equal = "loadings", fixed.x = FALSE), "school_randomx")
# FIML with fixed.x: the row missing the covariate (grade) is deleted, with a warning
rdump(suppressWarnings(cfa(paste(HS, "; visual ~ grade"), data = hsm, group = "school",
                           missing = "ml", group.equal = "loadings")),
      "school_xmiss_fiml")
write.csv(modindices(cfa(paste(HS, "; visual ~ ageyr; speed ~ textual"), data = hs)),
          "lavaan_review_lvresid_modindices.csv", row.names = FALSE)
write.csv(modindices(cfa(paste(HS, "; visual ~ ageyr + sex; speed ~ visual"), data = hs,
                         fixed.x = FALSE)),
          "lavaan_review_randomx_modindices.csv", row.names = FALSE)
# factor scores of a model with covariates predicting latent variables (no mean structure)
cov_fit <- sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9
                speed ~ textual + ageyr; visual ~ sex; x1 ~~ x4", data = hs)
write.csv(lavPredict(cov_fit), "lavaan_cov_factor_scores.csv", row.names = FALSE)
write.csv(lavPredict(cov_fit, method = "Bartlett"), "lavaan_cov_bartlett_scores.csv",
          row.names = FALSE)
# --- multiple groups: per-group modifiers c(...), defined parameters (:=, group 0),
# Wald tests and MLR (sandwich SEs from every group's case scores, Yuan-Bentler test)
mgdump <- function(fit, name, measures = FM) {
  write.csv(parameterEstimates(fit, standardized = TRUE),
            sprintf("lavaan_mg_%s_estimates.csv", name), row.names = FALSE)
  fm <- fitMeasures(fit, measures)
  write.csv(data.frame(measure = names(fm), value = as.numeric(fm)),
            sprintf("lavaan_mg_%s_fit.csv", name), row.names = FALSE)
}
# a label per group overrides group.equal (x2, x3 differ; the other loadings are equal)
MGL <- "visual =~ x1 + c(a1, a2)*x2 + c(b1, b2)*x3
        textual =~ x4 + x5 + x6
        speed =~ x7 + x8 + x9
        d := a1 - a2
        r := b1 / b2"
mgl <- cfa(MGL, data = hs, group = "school", group.equal = "loadings")
mgdump(mgl, "labels_metric")
mgl_mlr <- cfa(MGL, data = hs, group = "school", group.equal = "loadings", estimator = "MLR")
mgdump(mgl_mlr, "labels_metric_mlr", c(FM, SC))
# one label in both groups (an equality), per-group labels of the latent variances
mgdump(cfa("visual =~ x1 + c(a, a)*x2 + x3; textual =~ x4 + x5 + x6
            speed =~ x7 + x8 + x9; textual ~~ c(v1, v2)*textual; vr := v2 / v1",
           data = hs, group = "school"), "equal_labels")
# values per group (NA free): visual scaled by its variance in the first group and by
# its marker in the second; x5 a second marker in the first group; x8 fixed in both.
# With equal loadings the free x1 (first group) and x5 (second) are constrained to the
# other group's fixed 1
MGF <- "visual =~ c(NA, 1)*x1 + x2 + x3
        visual ~~ c(1, NA)*visual
        textual =~ x4 + c(1, NA)*x5 + x6
        speed =~ x7 + c(0.5, 0.5)*x8 + x9"
mgdump(cfa(MGF, data = hs, group = "school"), "fixed_configural")
mgdump(cfa(MGF, data = hs, group = "school", group.equal = "loadings"), "fixed_metric")
wald <- function(f, est) do.call(rbind, lapply(c("a1 == a2", "a1 == a2; b1 == b2", "d == 0"),
  function(k) {
    w <- lavTestWald(f, constraints = k)
    data.frame(estimator = est, constraints = k, stat = w$stat, df = w$df, pvalue = w$p.value)
  }))
write.csv(rbind(wald(mgl, "ML"), wald(mgl_mlr, "MLR")), "lavaan_mg_wald.csv", row.names = FALSE)
# MLR metric invariance, complete data and FIML, and the scaled difference test
mlr <- lapply(list(configural = "", metric = "loadings"), function(ge)
  cfa(HS, data = hs, group = "school", group.equal = ge, estimator = "MLR"))
mgdump(mlr$metric, "mlr_metric", c(FM, SC))
mgdump(cfa(HS, data = hsm, group = "school", group.equal = "loadings", estimator = "MLR",
           missing = "ml"), "mlr_fiml_metric", c(FM, SC))
tab <- as.data.frame(anova(mlr$configural, mlr$metric))
write.csv(cbind(model = names(mlr), tab), "lavaan_mg_anova_mlr.csv", row.names = FALSE)
# modification indices of multiple-group fits (a candidate per group; the marker
# loadings are identified when the other loadings are equal)
write.csv(modindices(cfa(HS, data = hs, group = "school", group.equal = "loadings")),
          "lavaan_mg_metric_modindices.csv", row.names = FALSE)
write.csv(modindices(cfa(HS, data = hsm, group = "school", missing = "ml")),
          "lavaan_mg_fiml_configural_modindices.csv", row.names = FALSE)
# partial scalar invariance: the intercepts of x3 and x7 exempt from group.equal
mgdump(cfa(HS, data = hs, group = "school", group.equal = c("loadings", "intercepts"),
           group.partial = c("x3~1", "x7~1")), "partial_scalar")
# covariance-matrix input (sample.cov, sample.nobs; lavaan rescales the unbiased
# covariance by (N - 1) / N): the stability of alienation model of lavaan's tutorial
# (Wheaton et al. 1977, N = 932, the lower triangle as the tutorial prints it)
lower <- "
 11.834
  6.947   9.364
  6.819   5.091  12.532
  4.783   5.028   7.495   9.986
 -3.839  -3.889  -3.841  -3.625  9.610
-21.899 -18.831 -21.748 -18.775 35.522 450.288 "
wheaton.cov <- getCov(lower, names = c("anomia67", "powerless67", "anomia71",
                                       "powerless71", "education", "sei"))
WH <- "ses =~ education + sei
       alien67 =~ anomia67 + powerless67
       alien71 =~ anomia71 + powerless71
       alien71 ~ alien67 + ses
       alien67 ~ ses
       anomia67 ~~ anomia71
       powerless67 ~~ powerless71"
dump(sem(WH, sample.cov = wheaton.cov, sample.nobs = 932), "wheaton")
# with sample means (a mean structure): HS's moments, unbiased covariance as R's cov()
xs <- paste0("x", 1:9)
dump(cfa(HS, sample.cov = cov(hs[xs]), sample.mean = colMeans(hs[xs]), sample.nobs = 301,
         meanstructure = TRUE), "hs_moments")
# MLR: lavaan's *.robust indices (Brosseau-Liard, Savalei & Li 2012; Brosseau-Liard &
# Savalei 2014; under missing = "ml" Zhang & Savalei's FIML-corrected version 3), one
# and two groups, complete data and FIML
RB <- c("cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust",
        "rmsea.ci.upper.robust", "rmsea.pvalue.robust")
rb <- rbind(
  fitMeasures(cfa(HS, data = hs, estimator = "MLR"), RB),
  fitMeasures(cfa(HS, data = hsm, estimator = "MLR", missing = "ml"), RB),
  fitMeasures(sem(PD, data = pd, estimator = "MLR"), RB),
  fitMeasures(sem("y4 ~ x1 + x2; y8 ~ y4 + x1", data = pd, estimator = "MLR"), RB),
  fitMeasures(cfa(HS, data = hs, group = "school", group.equal = "loadings",
                  estimator = "MLR"), RB),
  fitMeasures(cfa(HS, data = hsm, group = "school", group.equal = "loadings",
                  estimator = "MLR", missing = "ml"), RB))
write.csv(cbind(case = c("hs", "hs_fiml", "pd", "path", "mg_metric", "mg_fiml_metric"),
                as.data.frame(rb)), "lavaan_mlr_robust.csv", row.names = FALSE)
# multiple groups: R², residuals, factor scores and the standardized solution with SEs
# (metric invariance, complete data and FIML; the scalar fit, with latent means, and a
# latent regression for R² of latent variables; the labelled fit with := for the
# standardized defined parameters). Long tables with the group (1-based) and, for
# the factor scores, each case's row in the data (lavInspect "case.idx").
mgm <- cfa(HS, data = hs, group = "school", group.equal = "loadings")
mgf <- cfa(HS, data = hsm, group = "school", missing = "ml", group.equal = "loadings")
mgs <- cfa(HS, data = hs, group = "school", group.equal = c("loadings", "intercepts"))
mgr <- sem(paste(HS, "; speed ~ visual + textual"), data = hs, group = "school",
           group.equal = "loadings")
r2l <- function(fit, case) do.call(rbind, lapply(seq_along(lavInspect(fit, "r2")),
  function(g) {
    v <- lavInspect(fit, "r2")[[g]]
    data.frame(case = case, group = g, variable = names(v), r2 = as.numeric(v))
  }))
write.csv(rbind(r2l(mgm, "metric"), r2l(mgf, "fiml_metric"), r2l(mgr, "regression")),
          "lavaan_mg_r2.csv", row.names = FALSE)
resl <- function(fit, case) do.call(rbind, lapply(c("raw", "cor", "normalized"), function(ty) {
  r <- residuals(fit, type = ty)
  do.call(rbind, lapply(seq_along(r), function(g) {
    m <- r[[g]]$cov
    rbind(data.frame(case = case, type = ty, group = g, row = rep(rownames(m), ncol(m)),
                     col = rep(colnames(m), each = nrow(m)), value = as.vector(m)),
          data.frame(case = case, type = ty, group = g, row = names(r[[g]]$mean),
                     col = "~1", value = as.numeric(r[[g]]$mean)))
  }))
}))
write.csv(rbind(resl(mgm, "metric"), resl(mgf, "fiml_metric")), "lavaan_mg_residuals.csv",
          row.names = FALSE)
fsl <- function(fit, case) do.call(rbind, lapply(c("regression", "Bartlett"), function(me) {
  s <- lavPredict(fit, method = me)
  idx <- lavInspect(fit, "case.idx")
  do.call(rbind, lapply(seq_along(s), function(g)
    data.frame(case = case, method = me, group = g, row = idx[[g]], s[[g]])))
}))
write.csv(rbind(fsl(mgm, "metric"), fsl(mgf, "fiml_metric"), fsl(mgs, "scalar")),
          "lavaan_mg_factor_scores.csv", row.names = FALSE)
stdl <- function(fit, case) cbind(case = case, standardizedSolution(fit))
write.csv(rbind(stdl(mgm, "metric"), stdl(mgf, "fiml_metric"), stdl(mgs, "scalar"),
                stdl(mgr, "regression"), stdl(mgl, "labels_metric")),
          "lavaan_mg_std.csv", row.names = FALSE)
# standardized residuals (over the SEs of the residuals themselves): the HS CFA, with
# a mean structure, and the PD model (tight convergence, as pd_tight)
sres <- function(fit, name) {
  r <- residuals(fit, type = "standardized")
  write.csv(r$cov, sprintf("lavaan_%s_resid_standardized.csv", name))
  if (!is.null(r$mean))
    write.csv(data.frame(variable = names(r$mean), mean = as.numeric(r$mean)),
              sprintf("lavaan_%s_resid_standardized_mean.csv", name), row.names = FALSE)
}
sres(cfa(HS, data = hs), "hs")
sres(cfa(HS, data = hs, meanstructure = TRUE), "hs_means")
sres(sem(PD, data = pd, optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 10000)),
     "pd")
# standardized residuals of multiple-group fits (metric and scalar invariance, complete
# data): a long table as lavaan_mg_residuals.csv
msres <- function(fit, case) {
  r <- residuals(fit, type = "standardized")
  do.call(rbind, lapply(seq_along(r), function(g) {
    m <- r[[g]]$cov
    rbind(data.frame(case = case, group = g, row = rep(rownames(m), ncol(m)),
                     col = rep(colnames(m), each = nrow(m)), value = as.vector(m)),
          data.frame(case = case, group = g, row = names(r[[g]]$mean),
                     col = "~1", value = as.numeric(r[[g]]$mean)))
  }))
}
write.csv(rbind(msres(mgm, "metric"), msres(mgs, "scalar")),
          "lavaan_mg_resid_standardized.csv", row.names = FALSE)
# a second-order factor: the first-order factors are indicators of g, hence endogenous
# (disturbance variances, no covariances among them or with g); marker scaling and
# std.lv (which fixes the disturbance variances to 1)
HS2 <- paste(HS, "; g =~ visual + textual + speed")
dump(cfa(HS2, data = hs), "hs_second_order")
dump(cfa(HS2, data = hs, std.lv = TRUE), "hs_second_order_stdlv")
# latent growth models (lavaan's growth(): observed intercepts fixed at 0, latent means
# free) on the ECLS-K:2011 sample shipped with trajmix: reading at five occasions;
# with a time-invariant covariate (fixed.x: the regressions' intercepts are the latent
# means); and two groups (SEX) with equal residual variances
ecls <- read.csv("../../trajmix/datasets/ecls_k2011_rms_sample.csv")
LGM <- "i =~ 1*R1 + 1*R3 + 1*R5 + 1*R7 + 1*R9
        s =~ 0*R1 + 2*R3 + 4*R5 + 6*R7 + 8*R9"
dump(growth(LGM, data = ecls), "ecls_growth")
dump(growth(paste(LGM, "\ni + s ~ INCOME"), data = ecls), "ecls_growth_cov")
dump(growth(LGM, data = ecls, group = "SEX", group.equal = "residuals"), "ecls_growth_sex")
# the growth factors predicting a distal outcome (mathematics at the last occasion),
# its intercept freed: a likelihood with a ridge that BFGS from the identity followed.
# The surface is flat near the optimum: nlminb's default tolerance stops 8e-6 below it
# (estimates off by up to 2e-3 relative), so the reference is converged tightly (as
# pd_tight)
dump(growth(paste(LGM, "\nM9 ~ i + s\nM9 ~ 1"), data = ecls,
            optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 10000)),
     "ecls_growth_distal")
# modification indices of a growth model: the observed intercepts, fixed at 0, are
# candidates with a mean structure
mi(growth(LGM, data = ecls), "ecls_growth")
# every measure of lavaan's default fitMeasures(fit) ("all") for models of each kind:
# one group and several, with and without means, fixed.x covariates, FIML, MLR
# (tests/sem/test_fit_measures_all.py compares every one of them)
PDT <- function(...) sem(PD, data = pd, optim.method = "BFGS",
                         control = list(reltol = 1e-16, maxit = 10000), ...)
allfm <- list(
  hs = cfa(HS, data = hs),
  hs_means = cfa(HS, data = hs, meanstructure = TRUE),
  pd = PDT(),
  path = sem("y4 ~ a*x1 + x2; y8 ~ b*y4 + x1", data = pd),
  randomx = sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6
                 textual ~ visual + ageyr + sex; x9 ~ ageyr", data = hs, fixed.x = FALSE),
  hs_fiml = cfa(HS, data = hsm, missing = "ml"),
  hs_mlr = cfa(HS, data = hs, estimator = "MLR"),
  pd_mlr = PDT(estimator = "MLR"),
  path_mlr = sem("y4 ~ x1 + x2; y8 ~ y4 + x1", data = pd, estimator = "MLR"),
  hs_mlr_fiml = cfa(HS, data = hsm, estimator = "MLR", missing = "ml"),
  school = cfa(HS, data = hs, group = "school"),
  school_fiml_metric = cfa(HS, data = hsm, group = "school", missing = "ml",
                           group.equal = "loadings"),
  school_metric_mlr = cfa(HS, data = hs, group = "school", group.equal = "loadings",
                          estimator = "MLR"),
  ecls_growth = growth(LGM, data = ecls))
write.csv(do.call(rbind, lapply(names(allfm), function(nm) {
  fm <- fitMeasures(allfm[[nm]])
  data.frame(fit = nm, measure = names(fm), value = as.numeric(fm))
})), "lavaan_fit_measures_all.csv", row.names = FALSE)
# standardizedSolution's other types, with their delta-method SEs: std.nox leaves the
# exogenous covariates on their scale (fixed and free covariates), std.lv the observed
for (tp in c("std.nox", "std.lv")) {
  write.csv(standardizedSolution(sem("y4 ~ a*x1 + x2; y8 ~ b*y4 + x1; ab := a*b",
                                     data = pd), type = tp),
            sprintf("lavaan_path_%s.csv", sub(".", "_", tp, fixed = TRUE)), row.names = FALSE)
  write.csv(standardizedSolution(sem("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6
          textual ~ visual + ageyr + sex; x9 ~ ageyr", data = hs, fixed.x = FALSE), type = tp),
            sprintf("lavaan_randomx_%s.csv", sub(".", "_", tp, fixed = TRUE)), row.names = FALSE)
}
# lavTestScore: score tests of the equality constraints (group.equal, shared labels),
# all released and one by one; each constraint's rows named by lhs, op, rhs and group
score <- function(fit, case) {
  s <- lavTestScore(fit)
  pt <- parTable(fit)
  row <- function(pl) {
    r <- pt[pt$plabel == pl, ]
    sprintf("%s %s %s|%d", r$lhs, r$op, r$rhs, r$group)
  }
  rbind(data.frame(case = case, kind = "total", lhs = "", rhs = "", X2 = s$test$X2,
                   df = s$test$df, pvalue = s$test$p.value),
        data.frame(case = case, kind = "uni", lhs = sapply(s$uni$lhs, row),
                   rhs = sapply(s$uni$rhs, row), X2 = s$uni$X2, df = s$uni$df,
                   pvalue = s$uni$p.value))
}
write.csv(rbind(
  score(cfa(HS, data = hs, group = "school", group.equal = "loadings"), "metric"),
  score(cfa(HS, data = hs, group = "school", group.equal = c("loadings", "intercepts")),
        "scalar"),
  score(PDT(), "pd"),
  score(cfa(HS, data = hsm, group = "school", group.equal = "loadings", missing = "ml"),
        "fiml_metric")), "lavaan_score_tests.csv", row.names = FALSE)
