# One-class bilinear spline with an unknown knot on the ECLS-K:2011 math sample, in
# OpenMx (as nlpsem builds it: definition variables for each child's times). Called by
# bench/openmx_bench.py with the CSV path; prints "-2LL seconds knot".
# min(t, g) and max(t - g, 0) are written with abs(), elementwise in OpenMx algebra.
suppressMessages(library(OpenMx))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
J <- 9
for (j in 1:J) d[[paste0("t", j)]] <- d[[paste0("T", j)]] - d$T1
d <- d[, c(paste0("M", 1:J), paste0("t", 1:J))]
tv <- paste0("data.t", 1:J)
Tm <- mxMatrix("Full", J, 1, free = FALSE, labels = tv, name = "Tm")
g <- mxMatrix("Full", 1, 1, free = TRUE, values = 40, labels = "knot", name = "g")
u1 <- mxMatrix("Unit", J, 1, name = "u1")
L <- mxAlgebra(cbind(u1, (Tm + g %x% u1 - abs(Tm - g %x% u1)) / 2,
                     (Tm - g %x% u1 + abs(Tm - g %x% u1)) / 2), name = "L")
alpha <- mxMatrix("Full", 3, 1, free = TRUE, values = c(20, 1.8, 0.7),
                  labels = c("a0", "a1", "a2"), name = "alpha")
psi <- mxMatrix("Symm", 3, 3, free = TRUE, values = c(100, 0, 0, 0.1, 0, 0.01),
                labels = c("p00", "p01", "p02", "p11", "p12", "p22"), name = "psi")
th <- mxMatrix("Diag", J, J, free = TRUE, values = 30, labels = "theta", name = "th")
S <- mxAlgebra(L %*% psi %*% t(L) + th, name = "S")
M <- mxAlgebra(t(L %*% alpha), name = "M")
m <- mxModel("bilinear", mxData(d, type = "raw"), Tm, g, u1, L, alpha, psi, th, S, M,
             mxExpectationNormal("S", "M", dimnames = paste0("M", 1:J)),
             mxFitFunctionML())
t0 <- proc.time()[["elapsed"]]
fit <- mxRun(m, silent = TRUE, suppressWarnings = TRUE)
secs <- proc.time()[["elapsed"]] - t0
cat(sprintf("%.4f %.3f %.4f\n", fit$output$Minus2LogLikelihood, secs,
            coef(fit)[["knot"]]))
