//! Request paths of the npm registry protocol, parsed once.

/// What a request path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/-/ping`.
    Ping,
    /// `/<name>`, `/@scope%2fname`, `/@scope/name`.
    Packument {
        /// Package name.
        name: String,
    },
    /// `/<name>/<version-or-tag>`.
    Version {
        /// Package name.
        name: String,
        /// Version or dist-tag.
        version: String,
    },
    /// `/<name>/-/<file>`.
    Tarball {
        /// Package name.
        name: String,
        /// File name (`<basename>-<version>.tgz`).
        file: String,
    },
    /// Anything else (`/-/npm/v1/security/...`, `/-/whoami`, malformed paths): 404.
    Unknown,
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decode `%XX` escapes; `None` for a malformed escape or bytes that are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_val(*bytes.get(i + 1)?)?;
            let lo = hex_val(*bytes.get(i + 2)?)?;
            out.push(hi * 16 + lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Parse a request path (without the query).
pub fn parse(path: &str) -> Route {
    if path == "/-/ping" {
        return Route::Ping;
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Route::Unknown;
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut segs = Vec::new();
    for raw in rest.split('/') {
        match percent_decode(raw) {
            Some(s) if !s.is_empty() => segs.push(s),
            _ => return Route::Unknown,
        }
    }
    let (name, tail): (String, &[String]) = match segs.as_slice() {
        [] => return Route::Unknown,
        [first, ..] if first == "-" => return Route::Unknown,
        [first, second, tail @ ..] if first.starts_with('@') && !first.contains('/') => {
            (format!("{first}/{second}"), tail)
        }
        [first, tail @ ..] => (first.clone(), tail),
    };
    if name
        .split('/')
        .any(|p| p == "." || p == ".." || p.is_empty())
        || name.contains('\\')
    {
        return Route::Unknown;
    }
    match tail {
        [] => Route::Packument { name },
        [version] => Route::Version {
            name,
            version: version.clone(),
        },
        [dash, file] if dash == "-" => Route::Tarball {
            name,
            file: file.clone(),
        },
        _ => Route::Unknown,
    }
}

/// The file-name stem npm uses for a package's tarballs: the name without its scope.
pub fn tarball_basename(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registry_paths() {
        let p = |n: &str| Route::Packument { name: n.into() };
        let table = [
            ("/-/ping", Route::Ping),
            ("/left-pad", p("left-pad")),
            ("/@scope%2fname", p("@scope/name")),
            ("/@scope%2Fname", p("@scope/name")),
            ("/@scope/name", p("@scope/name")),
            ("/%40scope%2fname", p("@scope/name")),
            (
                "/@scope/name/1.0.0",
                Route::Version {
                    name: "@scope/name".into(),
                    version: "1.0.0".into(),
                },
            ),
            (
                "/@scope/name/-/name-1.0.0.tgz",
                Route::Tarball {
                    name: "@scope/name".into(),
                    file: "name-1.0.0.tgz".into(),
                },
            ),
            (
                "/a/-/a-1.0.0.tgz",
                Route::Tarball {
                    name: "a".into(),
                    file: "a-1.0.0.tgz".into(),
                },
            ),
            ("/-/npm/v1/security/advisories/bulk", Route::Unknown),
            ("/", Route::Unknown),
            ("/a/b/c/d", Route::Unknown),
            ("/%zz", Route::Unknown),
            ("/%ff", Route::Unknown),
            ("/..", Route::Unknown),
            ("/@scope%2f..", Route::Unknown),
            ("/a//b", Route::Unknown),
        ];
        for (path, want) in table {
            assert_eq!(parse(path), want, "{path}");
        }
    }
}
