# Reference values for research_kit.design.SurveyDesign, computed with R's survey package.
#
# Run from the repository root:
#     Rscript tests/reference/survey/make_reference.R
# It reads tests/reference/survey/survey_data.csv (made by make_data.py) and
# writes tests/reference/survey/reference.json: a list of cases, each with the
# design, the estimator, its arguments and the table R produced, and
# bootstrap_multiplicities.csv (R's bootstrap replicates, used as user-supplied
# replicate weights).  The Python tests (tests/test_design_survey_reference.py)
# replay every case.  Takes about five minutes.

suppressMessages(library(survey))
suppressMessages(library(jsonlite))

here <- "tests/reference/survey"
df <- read.csv(file.path(here, "survey_data.csv"), stringsAsFactors = FALSE, na.strings = c("NA", ""))
df$condom_always <- df$condom_always == "True"
df$one <- 1

options(survey.lonely.psu = "fail")

# --- designs (the same keys are rebuilt in Python) ---------------------------
designs <- list(
  main = function() svydesign(ids = ~venue, strata = ~stratum, weights = ~wt, data = df),
  fpc_pop = function() svydesign(ids = ~venue, strata = ~stratum, weights = ~wt, fpc = ~fpc1, data = df),
  fpc_frac = function() svydesign(ids = ~venue, strata = ~stratum, weights = ~wt, fpc = ~frac1, data = df),
  twostage = function() svydesign(ids = ~venue + respondent, strata = ~stratum, weights = ~wt,
                                  fpc = ~fpc1 + fpc2, data = df),
  twostage_nofpc = function() svydesign(ids = ~venue + respondent, strata = ~stratum, weights = ~wt, data = df),
  twostage_noweights = function() svydesign(ids = ~venue + respondent, strata = ~stratum,
                                            fpc = ~fpc1 + fpc2, data = df),
  srs = function() suppressWarnings(svydesign(ids = ~1, data = df)),
  cluster = function() svydesign(ids = ~venue, weights = ~wt, data = df),
  strat_only = function() svydesign(ids = ~1, strata = ~stratum, weights = ~wt, data = df),
  nested = function() svydesign(ids = ~venue_local, strata = ~stratum, weights = ~wt, nest = TRUE, data = df),
  lonely_adjust = function() svydesign(ids = ~venue, strata = ~stratum_lonely, weights = ~wt, data = df),
  lonely_certainty = function() svydesign(ids = ~venue, strata = ~stratum_lonely, weights = ~wt, data = df),
  lonely_remove = function() svydesign(ids = ~venue, strata = ~stratum_lonely, weights = ~wt, data = df),
  lonely_average = function() svydesign(ids = ~venue, strata = ~stratum_lonely, weights = ~wt, data = df)
)
lonely_of <- function(key) if (startsWith(key, "lonely_")) sub("lonely_", "", key) else "fail"

cases <- list()
add_case <- function(design, estimator, args, table) {
  cases[[length(cases) + 1]] <<- list(design = design, estimator = estimator, args = args, table = table)
}

byformula <- function(by) if (length(by) == 0) ~one else as.formula(paste("~", paste(by, collapse = "+")))

# Turn an svyby result into a tidy table: by columns, then the statistics.
tidy_by <- function(r, by, names) {
  nb <- if (length(by) == 0) 1 else length(by)
  vals <- as.data.frame(r)[, -(1:nb), drop = FALSE]
  out <- if (length(by) == 0) data.frame(row.names = seq_len(nrow(r))) else as.data.frame(r)[, 1:nb, drop = FALSE]
  for (i in seq_along(names)) out[[names[i]]] <- as.numeric(vals[[i]])
  rownames(out) <- NULL
  out
}

indicator <- function(var, level) {
  if (is.null(level)) as.formula(paste0("~as.numeric(", var, ")"))
  else as.formula(paste0("~as.numeric(", var, " == '", level, "')"))
}

# svymean / svytotal through svyby (estimate, se, normal CI, deff)
run_stat <- function(key, fun, var, by, level = NULL) {
  options(survey.lonely.psu = lonely_of(key))
  d <- designs[[key]]()
  FUN <- if (fun == "mean") svymean else svytotal
  f <- if (is.null(level)) as.formula(paste0("~", var)) else indicator(var, level)
  r <- svyby(f, byformula(by), d, FUN, na.rm = TRUE, deff = TRUE, vartype = c("se", "ci"))
  tab <- tidy_by(r, by, c("estimate", "se", "ci_low", "ci_high", "deff"))
  tab
}

# svyciprop through svyby, plus svymean's deff
run_prop <- function(key, var, by, method, level = NULL) {
  options(survey.lonely.psu = lonely_of(key))
  d <- designs[[key]]()
  f <- indicator(var, level)
  r <- svyby(f, byformula(by), d, svyciprop, method = method, na.rm = TRUE, vartype = c("se", "ci"))
  tab <- tidy_by(r, by, c("estimate", "se", "ci_low", "ci_high"))
  m <- svyby(f, byformula(by), d, svymean, na.rm = TRUE, deff = TRUE)
  # svyciprop's logit/likelihood estimate is expit() of an IRLS-converged
  # coefficient (equal to the weighted mean to ~1e-8); keep both.
  tab$estimate_ciprop <- tab$estimate
  tab$estimate <- as.numeric(coef(m))
  tab$deff <- as.numeric(deff(m))
  tab
}

# --- stage 1: means, totals, proportions -------------------------------------
for (key in c("main", "fpc_pop", "fpc_frac", "twostage", "twostage_nofpc", "twostage_noweights",
              "srs", "cluster", "strat_only", "nested", "lonely_adjust", "lonely_certainty",
              "lonely_remove", "lonely_average")) {
  for (by in list(character(0), "country", c("country", "gender"))) {
    add_case(key, "mean", list(variables = "age", by = by), run_stat(key, "mean", "age", by))
    add_case(key, "total", list(variables = "income", by = by), run_stat(key, "total", "income", by))
    for (method in c("logit", "mean")) {
      add_case(key, "proportion", list(variables = "tested_12m", by = by, ci = method),
               run_prop(key, "tested_12m", by, method))
    }
  }
}

for (key in c("main", "twostage")) {
  for (by in list(character(0), "country", c("country", "migrant"), "venue_type")) {
    for (method in c("logit", "mean", "beta", "likelihood")) {
      add_case(key, "proportion", list(variables = "hiv_pos", by = by, ci = method),
               run_prop(key, "hiv_pos", by, method))
      add_case(key, "proportion", list(variables = "condom_always", by = by, ci = method),
               run_prop(key, "condom_always", by, method))
    }
    add_case(key, "total", list(variables = "tested_12m", by = by), run_stat(key, "total", "tested_12m", by))
    add_case(key, "mean", list(variables = "cd4", by = by), run_stat(key, "mean", "cd4", by))
  }
  # A categorical variable: one svyciprop per level.
  for (by in list(character(0), "country")) {
    for (method in c("logit", "beta")) {
      for (lev in c("18-24", "25-29", "30-34", "35-44", "45+")) {
        add_case(key, "proportion_level", list(variables = "age_group", level = lev, by = by, ci = method),
                 run_prop(key, "age_group", by, method, level = lev))
      }
    }
  }
}


# --- stage 2: ratio, quantile, more CI methods --------------------------------
run_ratio <- function(key, num, den, by) {
  options(survey.lonely.psu = lonely_of(key))
  d <- designs[[key]]()
  # svyratio on replicate designs fails with deff = TRUE (survey 4.1.1)
  rep <- inherits(d, "svyrep.design")
  r <- svyby(as.formula(paste0("~", num)), byformula(by), d, svyratio,
             denominator = as.formula(paste0("~", den)), na.rm = TRUE, deff = !rep,
             vartype = c("se", "ci"))
  tidy_by(r, by, if (rep) c("estimate", "se", "ci_low", "ci_high")
                 else c("estimate", "se", "ci_low", "ci_high", "deff"))
}

run_quantile <- function(key, var, q, by) {
  options(survey.lonely.psu = lonely_of(key))
  d <- designs[[key]]()
  r <- svyby(as.formula(paste0("~", var)), byformula(by), d, svyquantile, quantiles = q,
             na.rm = TRUE, ci = TRUE, vartype = c("se", "ci"))
  tidy_by(r, by, c("estimate", "se", "ci_low", "ci_high"))
}

for (key in c("main", "twostage", "fpc_pop", "lonely_adjust", "srs", "cluster")) {
  for (by in list(character(0), "country", c("country", "gender"))) {
    add_case(key, "ratio", list(numerator = "income", denominator = "n_clients", by = by),
             run_ratio(key, "income", "n_clients", by))
    for (q in c(0.5, 0.25, 0.9)) {
      add_case(key, "quantile", list(variables = "age", q = q, by = by), run_quantile(key, "age", q, by))
      add_case(key, "quantile", list(variables = "income", q = q, by = by), run_quantile(key, "income", q, by))
    }
  }
}
for (key in c("main", "fpc_pop", "twostage", "srs", "lonely_adjust")) {
  for (by in list(character(0), "country", c("country", "gender"))) {
    for (method in c("beta", "likelihood")) {
      add_case(key, "proportion", list(variables = "tested_12m", by = by, ci = method),
               run_prop(key, "tested_12m", by, method))
    }
  }
}

# --- glm --------------------------------------------------------------------
glm_case <- function(key, formula, family, py_formula) {
  options(survey.lonely.psu = lonely_of(key))
  d <- designs[[key]]()
  fam <- switch(family, binomial = quasibinomial(), poisson = quasipoisson(), gaussian = gaussian())
  m <- eval(bquote(svyglm(.(as.formula(formula)), d, family = .(fam))))
  s <- summary(m)$coefficients
  ci <- confint(m)
  tab <- data.frame(term = rownames(s), estimate = s[, 1], se = s[, 2], ci_low = ci[, 1],
                    ci_high = ci[, 2], p_value = s[, 4])
  rownames(tab) <- NULL
  add_case(key, "glm", list(formula = py_formula, family = family, df_residual = m$df.residual), tab)
}
for (key in c("main", "fpc_pop", "twostage", "lonely_adjust", "srs", "cluster")) {
  glm_case(key, "tested_12m ~ police_violence + age_group", "binomial",
           "tested_12m ~ police_violence + C(age_group)")
  glm_case(key, "cd4 ~ age + police_violence + venue_type", "gaussian",
           "cd4 ~ age + police_violence + C(venue_type)")
  glm_case(key, "n_clients ~ police_violence + venue_type", "poisson",
           "n_clients ~ police_violence + C(venue_type)")
}

# --- chisq --------------------------------------------------------------------
chisq_case <- function(key, row, col) {
  options(survey.lonely.psu = lonely_of(key))
  d <- designs[[key]]()
  r <- svychisq(as.formula(paste0("~", row, "+", col)), d)
  add_case(key, "chisq", list(row = row, col = col),
           data.frame(statistic = unname(r$statistic), df1 = unname(r$parameter[1]),
                      df2 = unname(r$parameter[2]), p_value = r$p.value))
}
for (key in c("main", "fpc_pop", "twostage", "lonely_adjust", "srs")) {
  chisq_case(key, "tested_12m", "venue_type")
  chisq_case(key, "gender", "age_group")
  chisq_case(key, "police_violence", "hiv_pos")
}

# --- calibration ---------------------------------------------------------------
pop_venue <- data.frame(venue_type = c("bar", "online", "street"), Freq = c(26000, 11000, 31000))
pop_migrant <- data.frame(migrant = c("no", "yes"), Freq = c(63000, 5000))
designs$poststrat <- function() postStratify(designs$main(), ~venue_type, pop_venue)
designs$poststrat_twostage <- function() postStratify(designs$twostage(), ~venue_type, pop_venue)
designs$raked <- function() rake(designs$main(), list(~venue_type, ~migrant), list(pop_venue, pop_migrant))

for (key in c("poststrat", "poststrat_twostage", "raked")) {
  for (by in list(character(0), "country", c("country", "gender"))) {
    add_case(key, "mean", list(variables = "age", by = by), run_stat(key, "mean", "age", by))
    add_case(key, "total", list(variables = "income", by = by), run_stat(key, "total", "income", by))
    for (method in c("logit", "mean", "beta", "likelihood")) {
      add_case(key, "proportion", list(variables = "tested_12m", by = by, ci = method),
               run_prop(key, "tested_12m", by, method))
    }
    add_case(key, "ratio", list(numerator = "income", denominator = "n_clients", by = by),
             run_ratio(key, "income", "n_clients", by))
    add_case(key, "quantile", list(variables = "age", q = 0.5, by = by), run_quantile(key, "age", 0.5, by))
  }
  glm_case(key, "tested_12m ~ police_violence + age_group", "binomial",
           "tested_12m ~ police_violence + C(age_group)")
  chisq_case(key, "tested_12m", "venue_type")
}

# --- replicate weights -----------------------------------------------------------
set.seed(20240605)
boot <- as.svrepdesign(designs$main(), type = "bootstrap", replicates = 40, compress = FALSE)
# The bootstrap multiplicities are constant within a venue: store them per
# venue (small file); the replicate weights are wt * multiplicity.
mult <- weights(boot, "replication")
colnames(mult) <- sprintf("rw%02d", seq_len(ncol(mult)))
per_venue <- data.frame(venue = df$venue, mult)[!duplicated(df$venue), ]
write.csv(per_venue, file.path(here, "bootstrap_multiplicities.csv"), row.names = FALSE)
rw <- as.matrix(per_venue[match(df$venue, per_venue$venue), -1]) * df$wt
boot_scale <- boot$scale
dfrw <- cbind(df, rw)
designs$boot_user <- function() svrepdesign(data = dfrw, repweights = "rw[0-9]+", weights = ~wt,
                                            type = "bootstrap", combined.weights = TRUE,
                                            scale = boot_scale, rscales = 1)
designs$jk1 <- function() as.svrepdesign(designs$cluster(), type = "JK1")
designs$jkn <- function() as.svrepdesign(designs$main(), type = "JKn")
designs$jk1_fpc <- function() as.svrepdesign(svydesign(ids = ~venue, weights = ~wt, fpc = ~fpcv, data = transform(df, fpcv = 200)), type = "JK1")

for (key in c("boot_user", "jk1", "jkn", "jk1_fpc")) {
  for (by in list(character(0), "country", c("country", "gender"))) {
    add_case(key, "mean", list(variables = "age", by = by, scale = boot_scale), run_stat(key, "mean", "age", by))
    add_case(key, "total", list(variables = "income", by = by, scale = boot_scale), run_stat(key, "total", "income", by))
    for (method in c("logit", "mean", "beta")) {
      add_case(key, "proportion", list(variables = "tested_12m", by = by, ci = method, scale = boot_scale),
               run_prop(key, "tested_12m", by, method))
    }
    add_case(key, "ratio", list(numerator = "income", denominator = "n_clients", by = by, scale = boot_scale),
             run_ratio(key, "income", "n_clients", by))
  }
  glm_case(key, "tested_12m ~ police_violence + age_group", "binomial",
           "tested_12m ~ police_violence + C(age_group)")
}

for (key in c("jkn", "boot_user", "jk1")) {
  for (by in list(character(0), "country")) {
    add_case(key, "quantile", list(variables = "age", q = 0.5, by = by, scale = boot_scale),
             run_quantile(key, "age", 0.5, by))
  }
  chisq_case(key, "tested_12m", "venue_type")
}
cases[[length(cases)]]$args$scale <- boot_scale
for (i in seq_along(cases)) if (cases[[i]]$design == "boot_user") cases[[i]]$args$scale <- boot_scale

out <- list(
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  cases = cases
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "string", pretty = FALSE),
           file.path(here, "reference.json"))
cat("wrote", length(cases), "cases\n")
