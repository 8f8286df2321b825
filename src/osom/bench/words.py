"""The words a generated organisation is made of: names of people, of the areas a public
body works in, and of the capabilities its services offer at each layer of the network."""

from __future__ import annotations

FIRST_NAMES = (
    "Ada", "Amara", "Ben", "Bilal", "Carys", "Chen", "Dara", "Deepa", "Eilidh", "Emeka", "Fatima", "Finn", "Grace",
    "Hamza", "Hana", "Idris", "Isla", "Jonah", "Joy", "Kai", "Kemi", "Leah", "Luca", "Maya", "Mohammed", "Nadia",
    "Niamh", "Omar", "Orla", "Priya", "Quinn", "Rhys", "Rosa", "Sam", "Sana", "Tariq", "Tess", "Uma", "Vik", "Wen",
    "Yara", "Zane", "Alfie", "Bea", "Cora", "Dev", "Ewan", "Freya", "Gus", "Holly",
)
LAST_NAMES = (
    "Adeyemi", "Ahmed", "Baker", "Bell", "Campbell", "Chowdhury", "Clarke", "Davies", "Evans", "Fraser", "Green",
    "Hall", "Hughes", "Iqbal", "Jackson", "Jones", "Kaur", "Khan", "Lewis", "Lim", "Morgan", "Murphy", "Nowak",
    "Okafor", "Owen", "Patel", "Price", "Quigley", "Reid", "Roberts", "Shah", "Singh", "Smith", "Taylor", "Thomas",
    "Turner", "Usman", "Walker", "Watson", "White", "Williams", "Wright", "Young", "Zhang", "Ali", "Brown", "Cole",
    "Doyle", "Ellis", "Fox",
)
EXEC_AREAS = ("finance", "security", "risk", "strategy", "people", "technology", "legal")

AREAS = (
    "Housing", "Parking", "Waste", "Library", "Planning", "Council tax", "Business rates", "Licensing", "Schools",
    "Adult social care", "Children's services", "Highways", "Street lighting", "Parks", "Leisure", "Electoral",
    "Registration", "Environmental health", "Trading standards", "Benefits", "Blue badge", "Bus pass", "Pest control",
    "Noise", "Flood", "Cemeteries", "Allotments", "Markets", "Museums", "Tourism", "Grants", "Apprenticeships",
    "Adoption", "Fostering", "Youth", "Transport", "Cycling", "Recycling", "Building control", "Land charges",
    "Tenancy", "Repairs", "Homelessness", "Energy", "Air quality", "Trees", "Events", "Procurement", "Payroll",
    "Pensions",
)
DISTRICTS = (
    "North", "South", "East", "West", "Central", "Riverside", "Harbour", "Old Town", "Hillside", "Meadow", "Castle",
    "Bridge", "Forest", "Lakeside", "Market", "Station", "University", "Docks", "Airport", "Garden", "Heath", "Vale",
    "Moor", "Quay", "Abbey", "Mill", "Fields", "Green", "Park", "Cross",
)

# layer 3 meets residents; layer 0 is the platform everything runs on
CAPABILITIES = {
    3: ("applications", "payments", "bookings", "renewals", "reporting", "enquiries", "appeals", "permits",
        "registrations", "complaints", "sign-up", "account", "claims", "checker", "tracker", "notifications",
        "applications online", "appointments", "feedback", "self-service"),
    2: ("case management", "eligibility", "assessments", "scheduling", "records", "inspections", "billing",
        "casework", "workflow", "decisions", "fulfilment", "rostering", "allocations", "enforcement", "reviews",
        "triage", "contracts", "audit", "forecasting", "caseload"),
    1: ("data store", "document store", "address lookup", "rules engine", "search index", "reference data",
        "geospatial data", "form builder", "analytics", "integration", "print and post", "translation",
        "data sharing", "events bus", "file transfer", "reporting data", "master data", "calendar",
        "contact centre", "content"),
    0: ("hosting", "identity", "payments gateway", "notifications", "logging", "monitoring", "messaging",
        "secrets", "databases", "object storage", "networking", "email delivery", "SMS delivery", "backup",
        "scheduling platform", "container platform", "API gateway", "content delivery", "key management",
        "data warehouse"),
}

USERS = {
    3: ("resident", "business owner", "visitor to the city", "landlord", "parent or carer", "tenant"),
    2: ("service team", "caseworker", "resident-facing service", "team lead"),
    1: ("service team", "developer in a service team", "data analyst"),
    0: ("service team", "developer in a service team", "platform engineer"),
}
NEEDS = (
    ("to {what} without phoning anyone", "I can get on with my day"),
    ("to know where {what} stands", "I can plan around it"),
    ("{what} that is available when I need it", "my own work is not held up"),
    ("to get {what} right the first time", "I do not have to start again"),
    ("help when {what} goes wrong", "I am not stuck"),
    ("{what} at a fair cost", "money goes further"),
)
OUTCOME_METRICS = (
    ("completion-rate", "Completion rate", "%", "higher", 85),
    ("user-satisfaction", "User satisfaction", "%", "higher", 80),
    ("availability", "Availability", "%", "higher", 99),
    ("time-to-decision", "Time to decision", "days", "lower", 10),
    ("digital-take-up", "Digital take-up", "%", "higher", 70),
    ("first-time-right", "Right first time", "%", "higher", 90),
    ("response-time", "Median response time", "ms", "lower", 400),
    ("error-rate", "Error rate", "%", "lower", 2),
)
COST_METRIC = ("cost-per-transaction", "Cost per transaction", "GBP", "lower", 3)
CONSUMPTION_METRIC = ("consumption", "Calls from consuming services", "calls", "higher", None)

TEAM_ROLES = {
    "discovery": ("User researcher", "Service designer", "Product manager", "Business analyst"),
    "alpha": ("Software developer", "User researcher", "Interaction designer", "Technical architect",
              "Product manager"),
    "beta": ("Software developer", "Software developer", "Content designer", "Delivery manager", "Test engineer"),
    "live": ("Software developer", "Site reliability engineer", "Delivery manager", "Product manager",
             "Test engineer", "Content designer"),
}
LEVELS = ("associate", "junior", "practitioner", "practitioner", "senior", "senior", "lead", "principal")

DECOMMISSION_REASONS = {
    "a": ("A shared service now meets these needs better, and the new needs users raised could not be met here.",
          "Consolidated into a common platform; keeping a second copy cost more than it saved."),
    "b": ("The law that created the need was repealed.",
          "Residents no longer ask for this: demand fell to a handful of requests a year."),
}
COE_PROBLEMS = (
    ("Outage after a configuration change", "A configuration change was applied to every environment at once."),
    ("Payments taken twice", "Retries were not idempotent when the payment provider timed out."),
    ("Personal data sent to the wrong person", "Two records were matched on name alone."),
    ("Backlog of applications grew for weeks", "Nobody watched the queue; the alert went to a retired mailbox."),
    ("Certificate expired", "Renewal depended on one person's calendar reminder."),
    ("Slow pages at peak times", "A report query ran against the live database every minute."),
    ("Wrong fees shown", "The fee table was copied by hand instead of read from the source."),
    ("Notifications not delivered", "The provider changed its API and errors were swallowed."),
)
ACTIONS = (
    "Add an alert that pages the team on call", "Make the step idempotent and test retries",
    "Automate the renewal and monitor expiry dates", "Match records on a unique reference",
    "Move the report to a replica", "Read fees from the source of truth", "Roll out configuration in stages",
    "Write a runbook and rehearse it",
)
