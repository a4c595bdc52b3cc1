library(strucchange)
out <- data.frame()
for (k in c(1,2,3,5,6,10,20)) for (from in c(0.15, 0.1)) {
  f <- supLM(from)
  for (x in c(2,4,6,8,10,12,15,20,25,30,40,50,60)) {
    p <- f$computePval(x, nproc=k)
    out <- rbind(out, data.frame(k=k, from=from, x=x, p=p))
  }
}
write.csv(out, "suplm.csv", row.names=FALSE)
print(head(out,30))
# critical values
for (k in c(1,2,5,6,10)) { f <- supLM(0.15); print(c(k, f$computeCritval(0.05, nproc=k), f$computeCritval(0.01, nproc=k), f$computeCritval(0.1, nproc=k)))}
library(strucchange)
set.seed(1)
out <- data.frame()
for (k in c(1, 3, 6)) {
  freq <- c(0.2, 0.3, 0.1, 0.25, 0.15)
  f <- ordL2BB(freq, nproc=k, nrep=200000)
  for (x in c(2, 5, 8, 10, 12, 15, 20)) out <- rbind(out, data.frame(k=k, x=x, p=f$computePval(x, nproc=k)))
}
write.csv(out, "ordl2bb.csv", row.names=FALSE)
print(out)
