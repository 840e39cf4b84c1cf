# Pooled regional estimates with R's survey package: the combined design of the TLS countries.
#
# Usage (make_reference.py runs it):
#   Rscript pooled_survey.R respondents.csv population.csv out.json ind1,ind2 sub1,sub2
# respondents.csv: country, stratum (city), venue, weight and 0/1 indicator columns (NA outside
# the indicator's denominator). population.csv: country, population_size.
#
# Design: strata country x city, clusters venues (sampled with replacement, as research_kit's
# time-location designs), the study weights; post-stratified to the population size of each
# country. For indicators of all respondents svymean gives the stratified pooled mean
# sum_c N_c p_c / sum_c N_c and its standard error. For indicators of a sub-population the
# domain mean (subset) is the ratio estimator sum_c N_c d_c p_c / sum_c N_c d_c, whose
# standard error also counts the uncertainty of the shares d_c.

suppressMessages(library(survey))
suppressMessages(library(jsonlite))
options(survey.lonely.psu = "fail")

args <- commandArgs(trailingOnly = TRUE)
df <- read.csv(args[1], stringsAsFactors = FALSE, colClasses = c(country = "character", stratum = "character",
                                                                  venue = "character"))
pop <- read.csv(args[2], stringsAsFactors = FALSE)
all_resp <- strsplit(args[4], ",")[[1]]
subpop <- strsplit(args[5], ",")[[1]]

design <- svydesign(ids = ~venue, strata = ~interaction(country, stratum, drop = TRUE), weights = ~weight,
                    data = df, nest = TRUE)
totals <- data.frame(country = pop$country, Freq = pop$population_size)
ps <- postStratify(design, ~country, totals)

out <- list(survey_version = as.character(packageVersion("survey")), estimates = list())
for (v in c(all_resp, subpop)) {
  f <- as.formula(paste0("~", v))
  if (v %in% all_resp) {
    m <- svymean(f, ps)
  } else {
    m <- svymean(f, subset(ps, !is.na(df[[v]])), na.rm = TRUE)
  }
  out$estimates[[v]] <- list(estimate = unname(coef(m)[1]), se = unname(SE(m)[1]),
                             kind = if (v %in% all_resp) "all_respondents" else "subpopulation")
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), args[3])
