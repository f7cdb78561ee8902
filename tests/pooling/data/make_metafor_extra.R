# Extra metafor cases beyond ../shared/reference (Q-profile CI for tau2, meta-regression,
# trim-and-fill on random-effects models, MH/Peto with double-zero studies, large-sample SMD).
# Regenerate: Rscript make_metafor_extra.R > metafor_extra.json   (metafor 3.8-1, Debian
# package r-cran-metafor). Written without jsonlite so it runs on a bare R.
suppressMessages(library(metafor))
tight <- list(threshold = 1e-12, tol = 1e-14, maxiter = 10000)
num <- function(x) {
  x <- as.numeric(x)
  s <- ifelse(is.na(x), "null", sprintf("%.17g", x))
  if (length(x) == 1) s else paste0("[", paste(s, collapse = ", "), "]")
}
obj <- function(...) {
  a <- list(...)
  paste0("{", paste(sprintf("\"%s\": %s", names(a), unlist(a)), collapse = ", "), "}")
}
out <- list()

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcgor <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
nm <- dat.normand1999
md <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = nm)
ys <- dat.yusuf1985[dat.yusuf1985$table == "6", ]
ys <- ys[!is.na(ys$ai), ]

# 1. Q-profile CI for tau2 (confint.rma.uni), tight root finding
for (case in list(list("bcg_RR", bcg), list("bcg_OR", bcgor), list("normand_MD", md),
                  list("yusuf_OR", escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = ys)))) {
  for (meth in c("REML", "DL", "PM")) {
    d <- case[[2]]
    res <- rma(yi, vi, data = d, method = meth, control = tight)
    ci <- confint(res, control = list(tol = 1e-13, maxiter = 10000, tau2.max = 1e6))
    out[[length(out) + 1]] <- obj(kind = "\"tau2_ci\"", case = sprintf("\"%s\"", case[[1]]),
      method = sprintf("\"%s\"", meth), yi = num(d$yi), vi = num(d$vi), tau2 = num(res$tau2),
      ci_lb = num(ci$random["tau^2", "ci.lb"]), ci_ub = num(ci$random["tau^2", "ci.ub"]))
  }
}

# 2. meta-regression on one moderator (bcg log RR on absolute latitude)
for (meth in c("REML", "DL", "PM", "FE")) {
  for (kn in c(FALSE, TRUE)) {
    res <- rma(yi, vi, mods = ~ ablat, data = bcg, method = meth, test = ifelse(kn, "knha", "z"),
               control = tight)
    out[[length(out) + 1]] <- obj(kind = "\"metareg\"", method = sprintf("\"%s\"", meth),
      hksj = ifelse(kn, "true", "false"), yi = num(bcg$yi), vi = num(bcg$vi),
      moderator = num(bcg$ablat), intercept = num(res$beta[1]), slope = num(res$beta[2]),
      se_intercept = num(res$se[1]), se_slope = num(res$se[2]),
      stat_slope = num(res$zval[2]), pval_slope = num(res$pval[2]),
      ci_lb_slope = num(res$ci.lb[2]), ci_ub_slope = num(res$ci.ub[2]),
      tau2 = num(res$tau2), I2 = num(ifelse(meth == "FE", NA, res$I2)),
      R2 = num(ifelse(is.null(res$R2), NA, res$R2)), QE = num(res$QE), QE_pval = num(res$QEp),
      QM = num(res$QM), QM_pval = num(res$QMp))
  }
}

# 3. trim-and-fill on random-effects models
for (case in list(list("bcg_RR", bcg), list("bcg_OR", bcgor))) {
  for (meth in c("DL", "REML", "FE")) {
    d <- case[[2]]
    res <- rma(yi, vi, data = d, method = meth, control = tight)
    tf <- trimfill(res, control = tight)
    out[[length(out) + 1]] <- obj(kind = "\"trimfill\"", case = sprintf("\"%s\"", case[[1]]),
      method = sprintf("\"%s\"", meth), yi = num(d$yi), vi = num(d$vi), k0 = num(tf$k0),
      side = sprintf("\"%s\"", tf$side), estimate = num(tf$beta), ci_lb = num(tf$ci.lb),
      ci_ub = num(tf$ci.ub), tau2 = num(tf$tau2))
  }
}

# 4. MH (OR, RR, RD) and Peto on a table with double-zero studies
for (m in c("OR", "RR", "RD", "PETO")) {
  res <- if (m == "PETO") rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = ys) else
    rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = ys, measure = m)
  out[[length(out) + 1]] <- obj(kind = "\"mh\"", measure = sprintf("\"%s\"", m),
    events1 = num(ys$ai), n1 = num(ys$n1i), events2 = num(ys$ci), n2 = num(ys$n2i),
    estimate = num(res$beta), se = num(res$se), Q = num(res$QE), Q_pval = num(res$QEp),
    I2 = num(res$I2))
}

# 5. SMD with large samples (exact correction through log-gamma)
big <- escalc("SMD", m1i = c(10.2, 5.1), sd1i = c(2.1, 1.3), n1i = c(4000, 250000),
              m2i = c(9.8, 5.0), sd2i = c(2.3, 1.2), n2i = c(3900, 260000))
out[[length(out) + 1]] <- obj(kind = "\"smd_large\"", n1 = num(c(4000, 250000)),
  mean1 = num(c(10.2, 5.1)), sd1 = num(c(2.1, 1.3)), n2 = num(c(3900, 260000)),
  mean2 = num(c(9.8, 5.0)), sd2 = num(c(2.3, 1.2)), yi = num(big$yi), vi = num(big$vi))

cat("{\"generator\": \"metafor ", as.character(packageVersion("metafor")),
    " via make_metafor_extra.R\",\n \"cases\": [\n  ", paste(unlist(out), collapse = ",\n  "),
    "\n]}\n", sep = "")
