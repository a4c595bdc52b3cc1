# Reference for tests/sem/test_graphs_fit.py: a non-recursive SEM (feedback loop
# y1 <-> y2 with instruments x1, x2, correlated errors y1 ~~ y2 and an outcome y3)
# fitted by lavaan to graphs_cyclic_data.csv (simulated by MixedGraph.simulate, seed 7).
# Run from tests/data:  Rscript graphs_make_lavaan_reference.R
library(lavaan)
d <- read.csv("graphs_cyclic_data.csv")
model <- "
y1 ~ y2 + x2
y2 ~ y1 + x1
y3 ~ y2
y1 ~~ y2
x1 ~~ 0*x2
"
fit <- sem(model, data = d, fixed.x = FALSE)
pe <- parameterEstimates(fit)[, c("lhs", "op", "rhs", "est", "se")]
write.csv(pe, "graphs_cyclic_lavaan_estimates.csv", row.names = FALSE)
fm <- fitMeasures(fit, c("npar", "logl", "chisq", "df", "aic", "bic"))
write.csv(data.frame(measure = names(fm), value = as.numeric(fm)),
          "graphs_cyclic_lavaan_fit.csv", row.names = FALSE)
cat(sprintf("lavaan %s\n", packageVersion("lavaan")))
print(pe); print(fm)
