"""What the demo data says: products and their components, versions, errors and triggers, the
subject and title templates, customers' and people's names, and the answers backliners give.
The demo (demo.py) draws from these with its seeded random generator."""

PRODUCTS = {
    "Widget": ["Editor", "Autosave", "Sync", "Export"],
    "Gadget": ["Scheduler", "API", "Auth", "Reports"],
    "Gizmo": ["Installer", "Agent", "Dashboard", "Alerts"],
    "Sprocket": ["Storage", "Replication", "Backup", "CLI"],
    "Flux": ["Pipeline", "Connectors", "Billing", "Search"],
}
PRODUCT_WEIGHTS = [34, 24, 18, 14, 10]
VERSIONS = ["2.1", "2.2", "2.3", "2.4", "3.0", "3.1"]
ERRORS = [
    "error 500", "a timeout", "ERR_LOCKED", "a blank screen", "duplicate records", "a memory leak",
    "certificate errors", "stale data", "a crash on save", "slow responses", "lost settings",
    "a license warning", "permission denied", "corrupted exports", "missing notifications",
]
TRIGGERS = [
    "after upgrade to {v}", "under load", "on Windows clients", "behind a proxy", "after a restart",
    "with SSO enabled", "in the EU region", "for large accounts", "since this morning", "on {v}",
]
CASE_SUBJECTS = [
    "{p} {c} shows {e} {t}", "{c} in {p} gives {e} {t}", "{p}: {e} in {c} {t}",
    "Customer reports {e} from {p} {c}", "{p} {c} intermittently returns {e}",
]
HELP_SUBJECTS = [
    "Customer on {p} {v} sees {e} in {c}: what now?", "Is {e} in {p} {c} a known bug?",
    "How do I collect logs for {e} in {p} {c}?", "Workaround for {e} in {p} {c} {t}?",
    "{p} {c}: customer escalating over {e}", "Need eyes on {e} in {p} {c} {t}",
]
BUG_TITLES = [
    "{c} raises {e} {t}", "{e} in {c} when the queue is full", "{c}: {e} on retry",
    "Race in {c} leads to {e}", "{c} leaks handles and ends in {e}",
]
COMPANY_A = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell",
             "Cyberdyne", "Soylent", "Vandelay", "Monarch", "Oscorp", "Nakatomi", "Gringotts",
             "Aperture", "Blue Sun", "Pied Piper", "Dunder", "Massive", "Prestige", "Sirius", "Zorg"]
COMPANY_B = ["Corp", "Industries", "Labs", "Holdings", "Systems", "Logistics", "Bank", "Health",
             "Retail", "Energy", "Media", "Foods", "Airlines", "Insurance", "Telecom", "Group"]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena",
         "Mo", "Nia", "Omar", "Pia", "Quinn", "Raj", "Sara", "Tom", "Uma", "Vic", "Wen", "Yara"]
LAST = ["Smith", "Garcia", "Chen", "Okafor", "Novak", "Silva", "Kim", "Haddad", "Berg", "Rossi"]
BACKLINERS = ["alice", "bob", "chen", "dana"]
ENGINEERS = ["eng.ivy", "eng.omar", "eng.lu", "eng.mark", "eng.zoe"]
ANSWERS = [
    "This is a known issue in {c}. Workaround: clear the {c} cache and restart the service; the fix ships in {v}.",
    "Ask the customer for the {c} debug log (Settings > Support > Export logs). It is usually a proxy timeout.",
    "Check the {c} configuration for duplicate entries; removing them stops the {e}. Documented in the KB.",
    "Not a bug: {p} needs the {c} feature flag enabled after upgrading. Toggle it and re-run the job.",
    "Escalate to sustaining with the log bundle; until then roll back {c} to the previous build.",
]
