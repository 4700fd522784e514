//! Constant folding and alias resolution: what an expression evaluates to, as far as it can be
//! known without running the code.
//!
//! A value is a string (exact, or partial with `${…}` where a part is unknown), a number, an
//! array of values, or a *reference*: the canonical path of a global, a module or a member of
//! one (`process.env`, `mod:child_process.exec`, `require`). Bindings that are written once
//! (a `const`, a `let`/`var` never reassigned, or a variable declared without a value and
//! assigned exactly once, as bundlers' lazy initialisers do) carry the value of what was bound,
//! through `oxc_semantic`'s symbols and references; so aliases (`const r = require`,
//! `const {exec: e} = require('child_process')`, `const g = globalThis; g['ev'+'al']`) resolve
//! to the same reference as the direct form.
use super::decode;
use oxc_ast::ast::*;
use oxc_semantic::{Scoping, SymbolId};
use std::collections::HashMap;

/// The placeholder for an unknown part of a partial string.
pub(crate) const HOLE: &str = "${…}";
/// Deepest expression nesting evaluated.
const MAX_DEPTH: u32 = 48;
/// Longest array folded.
const MAX_ARRAY: usize = 4096;

/// What an expression is known to be.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    /// A string; `exact` is false when parts are unknown (shown as [`HOLE`]); `decoded` when it
    /// came out of a decoder (base64, hex, char codes, percent escapes).
    Str {
        s: String,
        exact: bool,
        decoded: bool,
    },
    /// A number.
    Num(f64),
    /// An array literal.
    Arr(Vec<Val>),
    /// A global, module or member of one, by canonical path.
    Ref(String),
    /// Not known.
    Unknown,
}

impl Val {
    pub(crate) fn str(s: impl Into<String>) -> Val {
        Val::Str {
            s: s.into(),
            exact: true,
            decoded: false,
        }
    }

    /// The string, exact or partial.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str { s, .. } => Some(s),
            _ => None,
        }
    }

    /// The string, only when fully known.
    pub(crate) fn exact_str(&self) -> Option<&str> {
        match self {
            Val::Str { s, exact: true, .. } => Some(s),
            _ => None,
        }
    }

    pub(crate) fn is_decoded(&self) -> bool {
        match self {
            Val::Str { decoded, .. } => *decoded,
            Val::Arr(items) => items.iter().any(Val::is_decoded),
            _ => false,
        }
    }

    pub(crate) fn as_ref_path(&self) -> Option<&str> {
        match self {
            Val::Ref(p) => Some(p),
            _ => None,
        }
    }

    /// The string form used in concatenation (`None`: unknown).
    fn piece(&self) -> Option<String> {
        match self {
            Val::Str { s, .. } => Some(s.clone()),
            Val::Num(n) => Some(num_text(*n)),
            _ => None,
        }
    }
}

fn num_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Globals whose members matter, by the names code reaches them with.
const KNOWN_GLOBALS: &[&str] = &[
    "require",
    "module",
    "process",
    "eval",
    "Function",
    "fetch",
    "Bun",
    "Deno",
    "WebSocket",
    "XMLHttpRequest",
    "EventSource",
    "navigator",
    "JSON",
    "Buffer",
    "atob",
    "btoa",
    "String",
    "Object",
    "Array",
    "Number",
    "Promise",
    "RegExp",
    "Reflect",
    "WebAssembly",
    "setTimeout",
    "setInterval",
    "setImmediate",
    "decodeURIComponent",
    "decodeURI",
    "unescape",
    "escape",
    "encodeURIComponent",
    "Error",
    "Math",
    "Symbol",
    "console",
];

/// The global object under its names (`globalThis.x` is `x`).
const GLOBAL_OBJECTS: &[&str] = &["globalThis", "global", "window", "self"];

/// Canonical form of a module specifier: `node:` prefix dropped, `fs/promises` as
/// `fs.promises`.
pub(crate) fn module_ref(spec: &str) -> String {
    let s = spec.strip_prefix("node:").unwrap_or(spec);
    match s {
        "fs/promises" => "mod:fs.promises".into(),
        "dns/promises" => "mod:dns.promises".into(),
        "child_process" | "os" | "fs" | "path" | "vm" | "module" | "http" | "https" | "http2"
        | "net" | "tls" | "dgram" | "dns" | "bun" | "crypto" => format!("mod:{s}"),
        _ => format!("mod:{s}"),
    }
}

/// Normalise well-known paths to one name.
fn canonical(path: String) -> String {
    match path.as_str() {
        "module.require" | "process.mainModule.require" | "require.main.require" => {
            "require".into()
        }
        "import.meta.require" | "Bun.require" => "require:bundler".into(),
        "process.binding" | "process._linkedBinding" => path,
        "mod:bun.$" => "Bun.$".into(),
        "mod:bun.spawn" => "Bun.spawn".into(),
        "mod:bun.spawnSync" => "Bun.spawnSync".into(),
        "mod:bun.env" => "Bun.env".into(),
        "mod:process.env" => "process.env".into(),
        "mod:path.posix" | "mod:path.win32" => "mod:path".into(),
        "mod:fs.default" | "mod:fs.promises.default" => path.trim_end_matches(".default").into(),
        _ if path.starts_with("mod:") && path.ends_with(".default") => {
            path.trim_end_matches(".default").into()
        }
        _ if path.starts_with("mod:path.posix.") || path.starts_with("mod:path.win32.") => {
            format!("mod:path.{}", &path["mod:path.posix.".len()..])
        }
        _ => path,
    }
}

/// The values bound to symbols.
pub(crate) struct Env<'s> {
    pub scoping: &'s Scoping,
    pub values: HashMap<SymbolId, Val>,
    pub fold_bytes: usize,
}

impl<'s> Env<'s> {
    pub(crate) fn new(scoping: &'s Scoping, fold_bytes: usize) -> Self {
        Env {
            scoping,
            values: HashMap::new(),
            fold_bytes,
        }
    }

    /// The symbol an identifier reference resolves to.
    pub(crate) fn symbol_of(&self, id: &IdentifierReference<'_>) -> Option<SymbolId> {
        let r = id.reference_id.get()?;
        self.scoping.get_reference(r).symbol_id()
    }

    /// An identifier reference that names an unbound global.
    pub(crate) fn is_global(&self, id: &IdentifierReference<'_>) -> bool {
        self.symbol_of(id).is_none()
    }

    /// Whether a symbol may hold a value other than the one it was bound to.
    pub(crate) fn reassigned(&self, sym: SymbolId) -> bool {
        self.scoping.symbol_is_mutated(sym)
    }

    /// How many writes a symbol has (assignments, updates; not its declaration).
    pub(crate) fn writes(&self, sym: SymbolId) -> usize {
        self.scoping
            .get_resolved_references(sym)
            .filter(|r| r.is_write())
            .count()
    }

    fn cut(&self, mut s: String) -> String {
        if s.len() > self.fold_bytes {
            let mut end = self.fold_bytes;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
        }
        s
    }

    fn mk(&self, s: String, exact: bool, decoded: bool) -> Val {
        Val::Str {
            s: self.cut(s),
            exact,
            decoded,
        }
    }

    /// The value of an identifier.
    pub(crate) fn ident(&self, id: &IdentifierReference<'_>) -> Val {
        match self.symbol_of(id) {
            Some(sym) => self.values.get(&sym).cloned().unwrap_or(Val::Unknown),
            None => {
                let n = id.name.as_str();
                if GLOBAL_OBJECTS.contains(&n) {
                    Val::Ref(String::new())
                } else if n == "undefined" {
                    Val::Unknown
                } else if KNOWN_GLOBALS.contains(&n) || n.starts_with("__") {
                    Val::Ref(canonical(n.to_string()))
                } else {
                    Val::Ref(n.to_string())
                }
            }
        }
    }

    /// A member of a value.
    pub(crate) fn member(&self, obj: &Val, key: &Val) -> Val {
        let k = match key {
            Val::Str { s, exact: true, .. } => s.clone(),
            Val::Num(n) => num_text(*n),
            _ => return Val::Unknown,
        };
        match obj {
            Val::Ref(p) if p.is_empty() => {
                if GLOBAL_OBJECTS.contains(&k.as_str()) {
                    Val::Ref(String::new())
                } else {
                    Val::Ref(canonical(k))
                }
            }
            Val::Ref(p) => {
                if p.len() + k.len() > 256 {
                    return Val::Unknown;
                }
                Val::Ref(canonical(format!("{p}.{k}")))
            }
            Val::Arr(items) => match key {
                Val::Num(n) if *n >= 0.0 && n.fract() == 0.0 => {
                    items.get(*n as usize).cloned().unwrap_or(Val::Unknown)
                }
                _ if k == "length" => Val::Num(items.len() as f64),
                _ => Val::Unknown,
            },
            Val::Str { s, .. } if k == "length" => Val::Num(s.chars().count() as f64),
            _ => Val::Unknown,
        }
    }

    /// The key of a member expression.
    pub(crate) fn member_key(&self, m: &MemberExpression<'_>, depth: u32) -> Val {
        match m {
            MemberExpression::StaticMemberExpression(s) => Val::str(s.property.name.as_str()),
            MemberExpression::ComputedMemberExpression(c) => self.eval_d(&c.expression, depth + 1),
            MemberExpression::PrivateFieldExpression(_) => Val::Unknown,
        }
    }

    pub(crate) fn member_object<'b, 'a>(m: &'b MemberExpression<'a>) -> &'b Expression<'a> {
        match m {
            MemberExpression::StaticMemberExpression(s) => &s.object,
            MemberExpression::ComputedMemberExpression(c) => &c.object,
            MemberExpression::PrivateFieldExpression(p) => &p.object,
        }
    }

    pub(crate) fn eval(&self, e: &Expression<'_>) -> Val {
        self.eval_d(e, 0)
    }

    pub(crate) fn eval_member(&self, m: &MemberExpression<'_>, depth: u32) -> Val {
        let obj = self.eval_d(Self::member_object(m), depth + 1);
        let key = self.member_key(m, depth);
        self.member(&obj, &key)
    }

    pub(crate) fn eval_d(&self, e: &Expression<'_>, depth: u32) -> Val {
        if depth > MAX_DEPTH {
            return Val::Unknown;
        }
        let d = depth + 1;
        match e {
            Expression::StringLiteral(s) => Val::str(s.value.as_str()),
            Expression::NumericLiteral(n) => Val::Num(n.value),
            Expression::TemplateLiteral(t) => self.template(t, d),
            Expression::Identifier(id) => self.ident(id),
            Expression::ParenthesizedExpression(p) => self.eval_d(&p.expression, d),
            Expression::TSAsExpression(x) => self.eval_d(&x.expression, d),
            Expression::TSSatisfiesExpression(x) => self.eval_d(&x.expression, d),
            Expression::TSNonNullExpression(x) => self.eval_d(&x.expression, d),
            Expression::TSTypeAssertion(x) => self.eval_d(&x.expression, d),
            Expression::SequenceExpression(s) => s
                .expressions
                .last()
                .map_or(Val::Unknown, |x| self.eval_d(x, d)),
            Expression::ImportMeta(_) => Val::Ref("import.meta".into()),
            Expression::StaticMemberExpression(_)
            | Expression::ComputedMemberExpression(_)
            | Expression::PrivateFieldExpression(_) => match e.as_member_expression() {
                Some(m) => self.eval_member(m, d),
                None => Val::Unknown,
            },
            Expression::ChainExpression(c) => match &c.expression {
                ChainElement::CallExpression(call) => self.call(&call.callee, &call.arguments, d),
                ChainElement::TSNonNullExpression(x) => self.eval_d(&x.expression, d),
                other => match other.as_member_expression() {
                    Some(m) => self.eval_member(m, d),
                    None => Val::Unknown,
                },
            },
            Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
                let l = self.eval_d(&b.left, d);
                let r = self.eval_d(&b.right, d);
                self.add(&l, &r)
            }
            Expression::LogicalExpression(l) => {
                let left = self.eval_d(&l.left, d);
                if left == Val::Unknown {
                    self.eval_d(&l.right, d)
                } else {
                    left
                }
            }
            Expression::ConditionalExpression(c) => {
                let a = self.eval_d(&c.consequent, d);
                let b = self.eval_d(&c.alternate, d);
                if a == b { a } else { Val::Unknown }
            }
            Expression::ArrayExpression(a) => {
                if a.elements.len() > MAX_ARRAY {
                    return Val::Unknown;
                }
                Val::Arr(
                    a.elements
                        .iter()
                        .map(|el| match el.as_expression() {
                            Some(x) => self.eval_d(x, d),
                            None => Val::Unknown,
                        })
                        .collect(),
                )
            }
            Expression::AwaitExpression(a) => match &a.argument {
                Expression::ImportExpression(i) => self.import_of(&i.source, d),
                other => self.eval_d(other, d),
            },
            Expression::ImportExpression(i) => self.import_of(&i.source, d),
            Expression::CallExpression(c) => self.call(&c.callee, &c.arguments, d),
            Expression::NewExpression(n) => {
                // `new Buffer(s, 'base64')` decodes like `Buffer.from`.
                match self.eval_d(&n.callee, d).as_ref_path() {
                    Some("Buffer") => self.decode_call("Buffer.from", &n.arguments, d),
                    _ => Val::Unknown,
                }
            }
            _ => Val::Unknown,
        }
    }

    fn import_of(&self, source: &Expression<'_>, d: u32) -> Val {
        match self.eval_d(source, d) {
            Val::Str { s, exact: true, .. } => Val::Ref(module_ref(&s)),
            _ => Val::Unknown,
        }
    }

    fn template(&self, t: &TemplateLiteral<'_>, d: u32) -> Val {
        let mut s = String::new();
        let mut exact = true;
        let mut decoded = false;
        for (i, q) in t.quasis.iter().enumerate() {
            match &q.value.cooked {
                Some(c) => s.push_str(c.as_str()),
                None => s.push_str(q.value.raw.as_str()),
            }
            if let Some(x) = t.expressions.get(i) {
                let v = self.eval_d(x, d);
                decoded |= v.is_decoded();
                match v.piece() {
                    Some(p) => s.push_str(&p),
                    None => {
                        exact = false;
                        s.push_str(HOLE);
                    }
                }
            }
            if s.len() > self.fold_bytes {
                break;
            }
        }
        self.mk(s, exact, decoded)
    }

    pub(crate) fn add(&self, l: &Val, r: &Val) -> Val {
        match (l, r) {
            (Val::Num(a), Val::Num(b)) => Val::Num(a + b),
            (Val::Str { .. }, _) | (_, Val::Str { .. }) => {
                let exact = matches!(l, Val::Str { exact: true, .. } | Val::Num(_))
                    && matches!(r, Val::Str { exact: true, .. } | Val::Num(_));
                let mut s = l.piece().unwrap_or_else(|| HOLE.to_string());
                if s.len() > self.fold_bytes {
                    return self.mk(s, false, l.is_decoded() || r.is_decoded());
                }
                s.push_str(&r.piece().unwrap_or_else(|| HOLE.to_string()));
                self.mk(s, exact, l.is_decoded() || r.is_decoded())
            }
            _ => Val::Unknown,
        }
    }

    fn args(&self, args: &[Argument<'_>], d: u32) -> Vec<Val> {
        args.iter()
            .take(64)
            .map(|a| match a.as_expression() {
                Some(x) => self.eval_d(x, d),
                None => Val::Unknown,
            })
            .collect()
    }

    /// The value of a call.
    pub(crate) fn call(&self, callee: &Expression<'_>, args: &[Argument<'_>], d: u32) -> Val {
        // Method calls on folded values: "a,b".split(","), [..].join(""), "x".concat(y).
        if let Some(m) = callee.as_member_expression() {
            let obj = self.eval_d(Self::member_object(m), d);
            let key = self.member_key(m, d);
            if let (Some(method), false) = (key.exact_str(), matches!(obj, Val::Ref(_))) {
                return self.method(&obj, method, args, d);
            }
            let target = self.member(&obj, &key);
            return self.call_ref(&target, args, d);
        }
        let target = self.eval_d(callee, d);
        self.call_ref(&target, args, d)
    }

    fn call_ref(&self, target: &Val, args: &[Argument<'_>], d: u32) -> Val {
        let Some(path) = target.as_ref_path() else {
            return Val::Unknown;
        };
        let first = || {
            args.first()
                .and_then(|a| a.as_expression())
                .map_or(Val::Unknown, |x| self.eval_d(x, d))
        };
        match path {
            "require" | "require:bundler" | "process.getBuiltinModule" => match first() {
                Val::Str { s, exact: true, .. } => Val::Ref(module_ref(&s)),
                _ => Val::Unknown,
            },
            "mod:module.createRequire" | "mod:module.Module.createRequire" => {
                Val::Ref("require:bundler".into())
            }
            "mod:os.homedir" => Val::str("~"),
            "mod:os.tmpdir" => Val::str("${tmpdir}"),
            "mod:path.join" | "mod:path.resolve" => {
                let parts = self.args(args, d);
                let mut exact = true;
                let pieces: Vec<String> = parts
                    .iter()
                    .map(|p| match p {
                        Val::Str { s, exact: e, .. } => {
                            exact &= *e;
                            s.clone()
                        }
                        _ => {
                            exact = false;
                            HOLE.to_string()
                        }
                    })
                    .collect();
                let decoded = parts.iter().any(Val::is_decoded);
                self.mk(pieces.join("/").replace("//", "/"), exact, decoded)
            }
            "String" => match first() {
                v @ Val::Str { .. } => v,
                Val::Num(n) => Val::str(num_text(n)),
                _ => Val::Unknown,
            },
            "atob"
            | "Buffer.from"
            | "String.fromCharCode"
            | "String.fromCodePoint"
            | "decodeURIComponent"
            | "decodeURI"
            | "unescape" => self.decode_call(path, args, d),
            _ => Val::Unknown,
        }
    }

    /// Decoders of encoded constants.
    pub(crate) fn decode_call(&self, path: &str, args: &[Argument<'_>], d: u32) -> Val {
        let vals = self.args(args, d);
        let max = self.fold_bytes;
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        match path {
            "atob" => match vals.first().and_then(Val::exact_str) {
                Some(s) => {
                    decode::base64(s, max).map_or(Val::Unknown, |b| self.mk(text(b), true, true))
                }
                None => Val::Unknown,
            },
            "Buffer.from" => {
                let enc = vals.get(1).and_then(Val::exact_str).unwrap_or("utf8");
                match (vals.first(), enc) {
                    (Some(Val::Str { s, exact: true, .. }), "base64" | "base64url") => {
                        decode::base64(s, max)
                            .map_or(Val::Unknown, |b| self.mk(text(b), true, true))
                    }
                    (Some(Val::Str { s, exact: true, .. }), "hex") => {
                        decode::hex(s, max).map_or(Val::Unknown, |b| self.mk(text(b), true, true))
                    }
                    (Some(v @ Val::Str { .. }), _) => v.clone(),
                    (Some(Val::Arr(items)), _) => self.char_codes(items),
                    _ => Val::Unknown,
                }
            }
            "String.fromCharCode" | "String.fromCodePoint" => self.char_codes(&vals),
            _ => match vals.first().and_then(Val::exact_str) {
                Some(s) => {
                    let b = decode::percent(s);
                    let changed = b != s.as_bytes();
                    self.mk(text(b), true, changed)
                }
                None => Val::Unknown,
            },
        }
    }

    fn char_codes(&self, vals: &[Val]) -> Val {
        let mut s = String::new();
        for v in vals {
            match v {
                Val::Num(n) if *n >= 0.0 && *n <= 0x10ffff as f64 => {
                    s.push(char::from_u32(*n as u32).unwrap_or('\u{fffd}'))
                }
                _ => return Val::Unknown,
            }
        }
        if vals.is_empty() {
            return Val::Unknown;
        }
        self.mk(s, true, true)
    }

    fn method(&self, obj: &Val, method: &str, args: &[Argument<'_>], d: u32) -> Val {
        let vals = || self.args(args, d);
        match (obj, method) {
            (Val::Arr(items), "join") => {
                let sep = match vals().first() {
                    Some(Val::Str { s, .. }) => s.clone(),
                    None => ",".to_string(),
                    _ => return Val::Unknown,
                };
                let mut exact = true;
                let decoded = items.iter().any(Val::is_decoded);
                let parts: Vec<String> = items
                    .iter()
                    .map(|v| {
                        exact &= matches!(v, Val::Str { exact: true, .. } | Val::Num(_));
                        v.piece().unwrap_or_else(|| HOLE.to_string())
                    })
                    .collect();
                self.mk(parts.join(&sep), exact, decoded)
            }
            (Val::Arr(items), "reverse") => Val::Arr(items.iter().rev().cloned().collect()),
            (Val::Arr(items), "concat") => {
                let mut out = items.clone();
                for v in vals() {
                    match v {
                        Val::Arr(more) => out.extend(more),
                        other => out.push(other),
                    }
                }
                Val::Arr(out)
            }
            (Val::Str { s, exact, decoded }, _) => {
                let (exact, decoded) = (*exact, *decoded);
                match method {
                    "concat" => vals().iter().fold(obj.clone(), |acc, v| self.add(&acc, v)),
                    "toString" | "valueOf" | "trim" | "normalize" => obj.clone(),
                    "toLowerCase" => self.mk(s.to_lowercase(), exact, decoded),
                    "toUpperCase" => self.mk(s.to_uppercase(), exact, decoded),
                    "split" if exact => match vals().first() {
                        Some(Val::Str {
                            s: sep,
                            exact: true,
                            ..
                        }) => Val::Arr(if sep.is_empty() {
                            s.chars()
                                .map(|c| self.mk(c.to_string(), true, decoded))
                                .collect()
                        } else {
                            s.split(sep.as_str())
                                .take(MAX_ARRAY)
                                .map(|p| self.mk(p.to_string(), true, decoded))
                                .collect()
                        }),
                        _ => Val::Unknown,
                    },
                    "replace" | "replaceAll" if exact => match &vals()[..] {
                        [
                            Val::Str {
                                s: a, exact: true, ..
                            },
                            Val::Str {
                                s: b, exact: true, ..
                            },
                            ..,
                        ] => {
                            let r = if method == "replace" {
                                s.replacen(a.as_str(), b, 1)
                            } else {
                                s.replace(a.as_str(), b)
                            };
                            self.mk(r, true, decoded)
                        }
                        _ => Val::Unknown,
                    },
                    "slice" | "substring" | "substr" if exact => {
                        let v = vals();
                        let chars: Vec<char> = s.chars().collect();
                        let n = chars.len() as f64;
                        let idx = |v: Option<&Val>, dflt: f64| match v {
                            Some(Val::Num(x)) => {
                                let x = if *x < 0.0 { (n + x).max(0.0) } else { x.min(n) };
                                Some(x as usize)
                            }
                            None => Some(dflt as usize),
                            _ => None,
                        };
                        let (Some(a), Some(b)) = (idx(v.first(), 0.0), idx(v.get(1), n)) else {
                            return Val::Unknown;
                        };
                        let b = if method == "substr" {
                            (a + b).min(chars.len())
                        } else {
                            b
                        };
                        if a >= b {
                            return self.mk(String::new(), true, decoded);
                        }
                        self.mk(chars[a..b].iter().collect(), true, decoded)
                    }
                    "charAt" | "at" => match vals().first() {
                        Some(Val::Num(i)) => s
                            .chars()
                            .nth(*i as usize)
                            .map_or(Val::Unknown, |c| self.mk(c.to_string(), exact, decoded)),
                        _ => Val::Unknown,
                    },
                    _ => Val::Unknown,
                }
            }
            _ => Val::Unknown,
        }
    }
}
