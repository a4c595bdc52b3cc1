# Reference values for tests/sem/test_compositional.py (compositional partial correlations).
#
# Run from the repository root:  Rscript tests/data/compositional_make_reference.R
# Made with R 4.2 and MASS (ginv) only; no compositional package is used, so these are
# computed independently of sem.compositional, by a different route:
#   * clr covariance (divisor n - 1) and its Moore-Penrose inverse MASS::ginv
#     (SVD), instead of the closed form (Gamma + 11'/D)^-1 - 11'/D used in Python;
#   * as a second route, the inverse covariance of the alr coordinates with
#     reference Sb (Aitchison 1986), which must agree with the first;
#   * Schaefer-Strimmer shrinkage (Schaefer & Strimmer 2005, target "D"; variances
#     towards the median, Opgen-Rhein & Strimmer 2007) of the log basis, mapped to
#     the clr (Jin, Notredame & Erb 2022, arXiv 2212.00496), written with explicit
#     loops from the papers' formulas, on the first 8 cups (8 samples < 11 parts).
# Data: sem/datasets/roman_glass_cups.csv (easyCODA's `cups`, Baxter et al. 2005).
# Outputs (tests/data/):
#   compositional_cups_pcor.csv        11 x 11 partial correlations (row label first)
#   compositional_cups_parts.csv       per part: partial variance (n-1), clr variance,
#                                      partial variance via alr(Sb)
#   compositional_cups_shrink8_pcor.csv  11 x 11, basis shrinkage on cups[1:8, ]
#   compositional_cups_shrink8_lambda.csv  the two shrinkage intensities
suppressMessages(library(MASS))
x <- as.matrix(read.csv("sem/datasets/roman_glass_cups.csv"))
n <- nrow(x); D <- ncol(x); parts <- colnames(x)
clr <- function(m) { l <- log(m); l - rowMeans(l) }
pcor_from_precision <- function(K) {
  P <- -K / sqrt(outer(diag(K), diag(K))); diag(P) <- 1; P
}
G <- cov(clr(x))                       # divisor n - 1
Omega <- ginv(G)                       # Moore-Penrose via SVD
pc <- pcor_from_precision(Omega); dimnames(pc) <- list(parts, parts)
# second route: alr with reference Sb (last part)
alr <- log(x[, -D] / x[, D])
K <- solve(cov(alr))
pc_alr <- pcor_from_precision(K)
stopifnot(max(abs(pc_alr - pc[-D, -D])) < 1e-10)
pv_alr <- c(1 / diag(K), NA)
out <- data.frame(part = parts, partial_variance = 1 / diag(Omega),
                  clr_variance = diag(G), partial_variance_alr_Sb = pv_alr)
write.csv(data.frame(part = parts, pc, check.names = FALSE),
          "tests/data/compositional_cups_pcor.csv", row.names = FALSE)
write.csv(out, "tests/data/compositional_cups_parts.csv", row.names = FALSE)

# Schaefer-Strimmer shrinkage, loops, from the formulas (not from corpcor's code)
ss_cov <- function(Y) {
  n <- nrow(Y); p <- ncol(Y)
  v <- numeric(p); var_v <- numeric(p)
  for (i in 1:p) {
    w <- (Y[, i] - mean(Y[, i]))^2
    v[i] <- sum(w) / (n - 1)
    var_v[i] <- n / (n - 1)^3 * sum((w - mean(w))^2)
  }
  m <- median(v)
  lam_v <- max(0, min(1, sum(var_v) / sum((v - m)^2)))
  vs <- lam_v * m + (1 - lam_v) * v
  S <- sweep(sweep(Y, 2, colMeans(Y)), 2, sqrt(v), "/")
  r <- matrix(0, p, p); var_r <- matrix(0, p, p)
  for (i in 1:p) for (j in 1:p) {
    w <- S[, i] * S[, j]
    r[i, j] <- n / (n - 1) * mean(w)
    var_r[i, j] <- n / (n - 1)^3 * sum((w - mean(w))^2)
  }
  off <- row(r) != col(r)
  lam <- max(0, min(1, sum(var_r[off]) / sum(r[off]^2)))
  R <- (1 - lam) * r; diag(R) <- 1
  list(cov = diag(sqrt(vs)) %*% R %*% diag(sqrt(vs)), lambda = lam, lambda_var = lam_v)
}
x8 <- x[1:8, ]
B <- log(x8 / rowSums(x8))
ss <- ss_cov(B)
Gm <- diag(D) - 1 / D
pc8 <- pcor_from_precision(ginv(Gm %*% ss$cov %*% Gm)); dimnames(pc8) <- list(parts, parts)
write.csv(data.frame(part = parts, pc8, check.names = FALSE),
          "tests/data/compositional_cups_shrink8_pcor.csv", row.names = FALSE)
write.csv(data.frame(lambda = ss$lambda, lambda_var = ss$lambda_var),
          "tests/data/compositional_cups_shrink8_lambda.csv", row.names = FALSE)
cat(sprintf("max |pcor(ginv) - pcor(alr Sb)| = %.2e\n", max(abs(pc_alr - pc[-D, -D]))))
cat(sprintf("shrinkage on 8 cups: lambda = %.6f, lambda_var = %.6f\n", ss$lambda, ss$lambda_var))
