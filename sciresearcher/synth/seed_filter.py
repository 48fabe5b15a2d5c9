"""Which candidate seed terms are not research entities: boilerplate, places, organisations, generic methods.

`junk_reason(term)` returns why a term makes a poor seed for a research question, or None:

- publication boilerplate ("Correction", "Originally published uncorrected article (PDF)", "Supplementary
  Material", "Author contributions") and over-long strings that are sentence fragments, not terms;
- places (countries, US states, continents, large cities) and organisations (names ending in Organization,
  Administration, Institute... and well-known acronyms: WHO, FDA, CDC, NIH);
- generic methods, measurement instruments and statistics (by head word: "... ratio", "... error", "...
  regression", "... spectrometry", "... imaging", "... scale", "... assay"; and a list of common ones: ELISA,
  PCR, electrocardiogram, Bayesian inference, area under the curve);
- non-science and health-services terms (Travel, Police, Internal Medicine, Operative Time, Hospitals...) and
  bare generic nouns (Proteins, Cells, Genes).

The lists are written for English biomedical and chemical corpora; they are a filter, not a classifier: a
specific method named as a research subject ("cryo-electron tomography") passes unless its head word is generic.
"""

from __future__ import annotations

import re

BOILERPLATE = re.compile(
    r"\b(correction|corrigendum|erratum|retraction|retracted|originally published|uncorrected|pdf|provided here|"
    r"supplementary|supporting information|author contributions?|competing interests|funding|acknowledg|"
    r"copyright|licen[cs]e|editorial|data availability|conflicts? of interest|abstract|introduction|"
    r"discussion|conclusions?|references|figure|table|appendix|et al|this article|this study|open access)\b",
    re.IGNORECASE)
PLACES = frozenset(s.casefold() for s in (
    "Africa", "Asia", "Europe", "North America", "South America", "Latin America", "Oceania", "Antarctica",
    "Middle East", "Scandinavia", "Argentina", "Australia", "Austria", "Bangladesh", "Belgium", "Brazil", "Canada",
    "Chile", "China", "Colombia", "Denmark", "Egypt", "Ethiopia", "Finland", "France", "Germany", "Ghana",
    "Greece", "Hong Kong", "Hungary", "India", "Indonesia", "Iran", "Iraq", "Ireland", "Israel", "Italy", "Japan",
    "Kenya", "Korea", "Republic of Korea", "Malawi", "Malaysia", "Mexico", "Nepal", "Netherlands", "New Zealand",
    "Nigeria", "Norway", "Pakistan", "Peru", "Philippines", "Poland", "Portugal", "Russia", "Saudi Arabia",
    "Singapore", "South Africa", "Spain", "Sweden", "Switzerland", "Taiwan", "Tanzania", "Thailand", "Turkey",
    "Uganda", "United Kingdom", "Great Britain", "England", "Scotland", "Wales", "United States", "USA",
    "Vietnam", "Zambia", "Zimbabwe", "Alabama", "Alaska", "Arizona", "California", "Colorado", "Florida",
    "Georgia", "Hawaii", "Illinois", "Texas", "New York", "Ohio", "Michigan", "Massachusetts", "Pennsylvania",
    "Washington", "Oregon", "Minnesota", "Wisconsin", "Maryland", "Virginia", "North Carolina", "Tennessee",
    "Louisiana", "Utah", "Iowa", "Kentucky", "Missouri", "Indiana", "London", "Paris", "Beijing", "Tokyo",
    "Toronto", "Boston", "Chicago", "Berlin", "Madrid", "Rome", "Amsterdam", "Sydney", "Montreal", "Ontario",
    "Quebec", "Rural Population", "Urban Population", "Developing Countries", "Geography"))
ORG_WORDS = re.compile(
    r"\b(organi[sz]ation|administration|association|institutes?|agency|society|department|council|foundation|"
    r"university|universities|ministry|committee|board|consortium|centers? for|centres? for|police|"
    r"government|united nations|nations|hospital|hospitals|clinic|clinics|company|industry)\b", re.IGNORECASE)
ORG_ACRONYMS = frozenset(("WHO", "FDA", "CDC", "NIH", "NHS", "EMA", "UN", "UNICEF", "NICE", "AHA", "ACC", "ESC",
                          "ADA", "IARC", "NCI", "USDA", "EPA", "OECD", "CMS", "ICU"))
GENERIC_HEADS = frozenset((
    "ratio", "ratios", "error", "errors", "curve", "regression", "inference", "interval", "intervals", "analysis",
    "analyses", "test", "tests", "testing", "scale", "scales", "score", "scores", "assay", "assays", "spectrometry",
    "spectroscopy", "imaging", "tomography", "microscopy", "chromatography", "method", "methods", "model",
    "models", "index", "time", "survey", "surveys", "questionnaire", "questionnaires", "parsimony", "likelihood",
    "characteristic", "histogram", "estimate", "estimates", "estimation", "statistics", "probability",
    "design", "trial", "trials", "study", "studies", "outcome", "outcomes", "factor", "factors", "rate", "rates",
    "level", "levels", "value", "values", "group", "groups", "data", "software", "database", "sample", "samples",
    "sampling", "technique", "techniques", "procedure", "procedures", "measurement", "measurements", "protocol",
    "approach", "practice", "care", "services", "personnel", "education", "students",
    "physicians", "nurses", "insurance", "costs", "cost", "attitude", "policy", "policies", "workload",
    "employment", "income", "medicine", "surgery", "nursing", "pediatrics", "research", "science", "loss",
    "gain", "survival", "mortality", "morbidity", "incidence", "prevalence", "period", "duration", "follow-up",
    "tree", "trees", "decomposition", "operator", "function", "deviation", "assessment", "chart", "generator",
    "control", "controls", "goal", "goals", "risk", "direction", "matrix", "algorithm", "distribution",
    "transform", "validation", "classifier", "equation", "criteria", "criterion", "guideline", "guidelines",
    "comprehension", "athletes", "crime", "volunteers", "population", "populations", "region", "area",
    "right", "left", "upper", "lower", "network", "networks", "cross-validation", "circumference", "identifier",
    "identifiers"))
DEMONYMS = frozenset(("european", "american", "african", "asian", "hispanic", "latino", "caucasian", "white",
                      "black", "chinese", "japanese", "korean", "indian", "native", "aboriginal", "indigenous",
                      "western", "eastern", "northern", "southern", "arab", "jewish", "mexican", "british"))
COMPUTING = frozenset(("software", "version", "computer", "computing", "web", "internet", "online", "server",
                       "programming", "database", "databases", "repository", "pipeline", "workflow", "performance"))
# statistics and modelling words that make a term a method wherever they stand in it
STAT_WORDS = frozenset(("model", "assessment", "validation", "cross-validation", "regression", "estimator",
                        "bootstrap", "likelihood", "bayesian", "statistical", "statistic"))
GENERIC_TERMS = frozenset(s.casefold() for s in (
    "Enzyme-Linked Immunosorbent Assay", "ELISA", "Polymerase Chain Reaction", "PCR", "polymerase chain reaction",
    "Real-Time Polymerase Chain Reaction", "Western blot", "Blotting, Western", "Immunohistochemistry",
    "Flow Cytometry", "electrocardiogram", "Electrocardiography", "Ultrasonography", "magnetic resonance imaging",
    "MRI", "computed tomography", "CT", "intravenous", "IV", "Travel", "Police", "Proteins", "Cells", "Genes",
    "DNA", "RNA", "Blood", "Tissue", "ultraviolet", "UV", "Bayesian inference", "area under the curve",
    "receiver operating characteristic", "confidence interval", "odds ratio", "hazard ratio", "standard deviation",
    "Body Mass Index", "body mass index", "BMI", "Algorithms", "Computer Simulation", "Models, Theoretical",
    "Models, Biological", "Software", "Linear Models", "Regression Analysis", "Mass Spectrometry",
    "Tandem Mass Spectrometry", "Chromatography, Liquid", "Microscopy", "Statistics, Nonparametric",
    "Cross-Sectional Studies", "Evaluation Studies as Topic", "Health Surveys", "Patient Satisfaction",
    "Quality of Life", "Length of Stay", "Emergency Service, Hospital", "Referral and Consultation", "Workload",
    "Internship and Residency", "Clinical Competence", "Decision Making", "Attitude of Health Personnel",
    "Socioeconomic Factors", "Health Knowledge, Attitudes, Practice", "Pilot Projects", "Feasibility Studies",
    "Weight Loss", "Molar", "Resuscitation", "Hospital Mortality", "Postoperative Complications",
    "Intraoperative Complications", "Operative Time", "Treatment Failure", "Recurrence", "Reoperation",
    "Retrospective Studies", "Length of stay", "Sex Distribution", "Age Distribution", "Body Weight",
    "Comorbidity", "Disease Progression", "Smoking", "Obesity", "Pain Measurement", "Pain", "Anxiety",
    "Depression", "Emotions", "Social Support", "Primary Health Care", "Public Health", "Delivery of Health Care",
    "Physician-Patient Relations", "Professional Practice", "Family", "Parents", "Mothers", "Fathers", "Spouses",
    "Caregivers", "Women", "Men", "Hospitalization", "Outpatients", "Inpatients", "Ambulatory Care",
    "Intensive Care Units", "Tertiary Care Centers", "Academic Medical Centers", "Practice Guidelines as Topic",
    "Guideline Adherence", "Benchmarking", "Quality Improvement", "Program Evaluation", "Data Collection",
    "Medical Records", "Registries", "Databases, Factual", "Age of Onset", "Predictive Value of Tests",
    "ROC Curve", "Probability", "Likelihood Functions", "Biomarkers", "Phylogeny", "Proteomics",
    "Gene Expression Profiling", "Transcriptome", "Genome", "Mutation", "Sequence Analysis, DNA",
    "Internal Medicine", "General Practice", "Family Practice", "Emergency Medicine", "Cities",
    "Residence Characteristics", "Rural Health", "Urban Health", "Ethnic Groups", "Racial Groups", "Language",
    "Internet", "Telephone", "Writing", "Reading", "Time", "Seasons", "Weather", "Climate", "leave-one-out",
    "Denavit-Hartenberg", "Modification of Diet in Renal Disease", "Comprehension", "Athletes", "Crime",
    "Violence", "Homicide", "Suicide", "Military Personnel", "Veterans", "Prisoners", "Occupations", "Sports",
    "Exercise", "Diet", "Sleep", "Alcohol Drinking", "Students, Medical", "Teaching", "Curriculum",
    "Knowledge", "Awareness", "Perception", "Communication", "Trust", "Motivation", "Cognition", "Memory",
    "Learning", "Prejudice", "Stress, Psychological", "Poverty", "Marriage", "Religion", "Culture"))


def _core(term: str) -> str:
    """The term without a trailing '(ABBR)'."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", term).strip()


def junk_reason(term: str) -> str | None:
    """Why `term` is not a research entity to build a question on, or None when it may be one."""
    core = _core(term)
    words = core.split()
    abbr = re.search(r"\(([^)]*)\)\s*$", term)
    if BOILERPLATE.search(term):
        return "publication boilerplate"
    if len(words) > 6 or len(core) < 3:
        return "not a term (a fragment or too short)"
    if core.casefold() in PLACES or any(p in PLACES for p in (core.casefold().removesuffix(" state"),)):
        return "a place"
    if ORG_WORDS.search(core) or core in ORG_ACRONYMS or (abbr and abbr.group(1) in ORG_ACRONYMS):
        return "an organisation or institution"
    if core.casefold() in GENERIC_TERMS or term.casefold() in GENERIC_TERMS or (
            abbr and abbr.group(1).casefold() in GENERIC_TERMS):
        return "a generic method, statistic or non-science term"
    head = re.split(r"[\s,]+", core.casefold())[-1] if words else ""
    first = re.split(r"[\s,]+", core.casefold())[0] if words else ""
    if set(core.casefold().split()) <= DEMONYMS:
        return "a place or population group"
    if STAT_WORDS & set(re.split(r"[\s,\-]+", core.casefold())):
        return "a statistical or modelling method"
    if re.search(r"(graphy|scopy|metry|sonography|synthesis|ct|ultrasound)$", head) and not core.isupper():
        return f"an imaging, endoscopic or measuring technique (head word {head!r})"
    tokens = set(re.split(r"[\s,\-]+", core.casefold()))
    if tokens & COMPUTING:
        return "a computing or software term"
    if head in ("system", "systems") and tokens & GENERIC_HEADS:
        return "a generic system (management, measurement, services)"
    if head in GENERIC_HEADS or ("," in core and first in GENERIC_HEADS):
        return f"a generic method, statistic or measure (head word {head!r})"
    return None
