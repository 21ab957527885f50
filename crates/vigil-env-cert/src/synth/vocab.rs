//! Word lists for the generator: names, keyword vocabulary, web domains, scenario keywords.
//!
//! The vocabulary is a fixed function of an index (syllable combinations), so it needs no
//! data file and does not depend on the seed; only the choices drawn from it do.

/// First names (also used as middle names).
pub(crate) const FIRST: &[&str] = &[
    "Aaron", "Abigail", "Adam", "Adrian", "Alana", "Alden", "Alice", "Amir", "Anita", "Arthur", "Beatrice",
    "Bernard", "Bianca", "Boris", "Brenda", "Caleb", "Camille", "Carlos", "Celia", "Chester", "Clara",
    "Damon", "Daria", "Declan", "Delia", "Dorian", "Edgar", "Elena", "Elliot", "Emery", "Ezra", "Fabian",
    "Felicia", "Flynn", "Gemma", "Gideon", "Greta", "Hamish", "Harriet", "Hector", "Helga", "Ian", "Ilse",
    "Ingrid", "Ivan", "Jasper", "Jolene", "Julius", "Kai", "Keira", "Kendrick", "Lars", "Leona", "Linus",
    "Lydia", "Magnus", "Marisol", "Milo", "Nadia", "Nestor", "Noor", "Octavia", "Orin", "Pavel", "Petra",
    "Quentin", "Rafael", "Rhea", "Rosalind", "Silas", "Sonja", "Tabitha", "Thaddeus", "Ulla", "Uriel",
    "Vance", "Vera", "Wendell", "Wilma", "Xavier", "Yara", "Yusuf", "Zelda", "Zoran",
];

/// Last names.
pub(crate) const LAST: &[&str] = &[
    "Abbott", "Alvarez", "Bancroft", "Barlow", "Calloway", "Castillo", "Dempsey", "Drummond", "Ellison",
    "Espinoza", "Fairbanks", "Fletcher", "Galloway", "Garrison", "Hale", "Hargrove", "Ibarra", "Ingram",
    "Jaramillo", "Jennings", "Kessler", "Kirkland", "Lamont", "Lockhart", "Maddox", "Merriweather",
    "Nakamura", "Norwood", "Oakley", "Ortega", "Pemberton", "Prescott", "Quimby", "Quintero", "Radcliffe",
    "Rosales", "Sandoval", "Sterling", "Thorne", "Tillman", "Underwood", "Upton", "Valdez", "Vaughn",
    "Whitaker", "Winslow", "Xiong", "Yardley", "Youngblood", "Zamora", "Zeller",
];

/// Functional units, each with its departments and the roles found there.
pub(crate) const UNITS: &[(&str, &[&str], &[&str])] = &[
    ("1 - Administration", &["1 - Facilities", "2 - InformationTechnology", "3 - HumanResources"], &[
        "AdministrativeAssistant",
        "HumanResourcesSpecialist",
        "ITAdmin",
    ]),
    ("2 - ResearchAndEngineering", &["1 - SoftwareEngineering", "2 - Electronics", "3 - Research"], &[
        "ComputerProgrammer",
        "ElectricalEngineer",
        "Scientist",
        "SoftwareQualityEngineer",
    ]),
    ("3 - Manufacturing", &["1 - Assembly", "2 - Quality"], &["Technician", "ProductionLineWorker", "Inspector"]),
    ("4 - SalesAndMarketing", &["1 - Sales", "2 - Marketing"], &["Salesman", "MarketingSpecialist"]),
    ("5 - Finance", &["1 - Accounting", "2 - Purchasing"], &["Accountant", "PurchasingClerk"]),
];

/// The IT department (home of the scenario 3 actors).
pub(crate) const IT_UNIT: usize = 0;
pub(crate) const IT_DEPT: usize = 1;
pub(crate) const IT_ROLE: &str = "ITAdmin";

/// Domains every user visits.
pub(crate) const POPULAR: &[&str] = &[
    "google.com", "msn.com", "yahoo.com", "bing.com", "facebook.com", "youtube.com", "wikipedia.org",
    "amazon.com", "ebay.com", "cnn.com", "espn.go.com", "weather.com", "nytimes.com", "about.com",
];

/// Job-hunting sites (scenario 2; a few normal users visit them too).
pub(crate) const JOB_SITES: &[&str] = &[
    "monster.com", "careerbuilder.com", "craigslist.org", "jobhuntersbible.com", "indeed.com",
    "simplyhired.com", "linkedin.com", "hotjobs.yahoo.com",
];

/// Keylogger download sites (scenario 3).
pub(crate) const KEYLOGGER_SITES: &[&str] = &["keylogger-pro.net", "stealthmonitor.com", "spyware-tools.org"];

/// The leak site of scenario 1 (about 69 requests in all of r4.2's http.csv).
pub(crate) const LEAK_SITE: &str = "wikileaks.org";

/// Personal mail providers (external addresses).
pub(crate) const MAIL_PROVIDERS: &[&str] = &["gmail.com", "yahoo.com", "hotmail.com", "aol.com", "comcast.net"];

/// Competitor domains (scenario 2 asks a competitor for work).
pub(crate) const COMPETITORS: &[&str] = &["lockwell-systems.com", "northstar-dynamics.com", "arcadia-defense.com"];

/// Scenario keywords.
pub(crate) const LEAK_WORDS: &[&str] = &["leak", "secret", "confidential", "spy", "disclosure", "classified", "expose"];
pub(crate) const JOB_WORDS: &[&str] =
    &["resume", "job", "career", "salary", "interview", "hiring", "position", "apply", "benefits", "recruiter"];
pub(crate) const KEYLOG_WORDS: &[&str] =
    &["keylogger", "stealth", "keystroke", "capture", "password", "monitor", "invisible", "spyware"];
pub(crate) const COMPLAINT_WORDS: &[&str] =
    &["unfair", "angry", "overworked", "ignored", "promotion", "denied", "management", "quit", "disrespect"];
pub(crate) const ALARM_WORDS: &[&str] =
    &["urgent", "layoffs", "bankruptcy", "closing", "terminated", "warning", "panic", "immediately"];

const ONSETS: &[&str] = &["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "st", "tr", "pl"];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "io"];
const CODAS: &[&str] = &["", "n", "r", "s", "t", "l", "nd", "rk"];

/// Number of distinct vocabulary words.
pub(crate) const VOCAB: usize = 4096;
/// Number of synthetic web domains (besides the popular and special ones).
pub(crate) const DOMAINS: usize = 2000;

/// The `i`-th vocabulary word (2–3 syllables).
pub(crate) fn word(i: usize) -> String {
    let mut x = i.wrapping_mul(2_654_435_761) % 1_000_003;
    let syllables = 2 + (i % 2);
    let mut s = String::with_capacity(10);
    for _ in 0..syllables {
        s.push_str(ONSETS[x % ONSETS.len()]);
        x /= ONSETS.len();
        s.push_str(VOWELS[x % VOWELS.len()]);
        x /= VOWELS.len();
        x = x.wrapping_mul(31).wrapping_add(i);
    }
    s.push_str(CODAS[x % CODAS.len()]);
    s
}

/// The `i`-th synthetic domain.
pub(crate) fn domain(i: usize) -> String {
    const TLDS: &[&str] = &["com", "net", "org", "info", "biz"];
    format!("{}{}.{}", word(i * 7 + 3), word(i * 13 + 5), TLDS[i % TLDS.len()])
}

/// File-header magic written at the start of file.csv content, by extension.
pub(crate) fn magic(ext: &str) -> &'static str {
    match ext {
        "doc" => "D0-CF-11-E0-A1-B1-1A-E1",
        "pdf" => "25-50-44-46-2D",
        "exe" => "4D-5A-90-00-03-00-00-00",
        "zip" => "50-4B-03-04-14-00-06-00",
        "jpg" => "FF-D8-FF-E0-00-10-4A-46",
        _ => "",
    }
}

/// File extensions of ordinary copies.
pub(crate) const EXTS: &[&str] = &["doc", "pdf", "txt", "jpg", "zip", "doc", "pdf", "doc"];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn vocabulary_is_mostly_distinct_and_plain() {
        let words: HashSet<String> = (0..VOCAB).map(word).collect();
        assert!(words.len() > VOCAB * 9 / 10, "{}", words.len());
        assert!(words.iter().all(|w| w.bytes().all(|b| b.is_ascii_lowercase())));
        let domains: HashSet<String> = (0..DOMAINS).map(domain).collect();
        assert!(domains.len() > DOMAINS * 9 / 10);
    }
}
