//! The detector: one walk of a module's AST (after a binding pass that records what each
//! write-once symbol holds) that turns calls, members, assignments and constants into
//! behaviours with evidence.
use super::decode;
use super::rules;
use super::value::{Env, HOLE, Val, module_ref};
use crate::content::manifest::{Behaviour, BehaviourKind};
use crate::limits::JsLimits;
use oxc_allocator::Allocator;
use oxc_ast::ast::*;
use oxc_ast_visit::{Visit, walk};
use oxc_parser::{ParseOptions, Parser, config::TokensParserConfig};
use oxc_semantic::{SemanticBuilder, SymbolId};
use oxc_span::{GetSpan, SourceType, Span};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;

/// What flows into a sink: nothing known, one environment value, or bulk host data (the whole
/// environment, system facts, a sensitive file's contents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Taint {
    None,
    Env,
    Bulk,
}

/// The result of analysing one source text.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub behaviours: Vec<Behaviour>,
    pub parse_error: Option<String>,
    pub truncated: bool,
    /// The review's facts of the module (only when asked for and it parsed without error).
    pub facts: Option<crate::diff::js::JsFacts>,
}

/// Byte offsets of line starts.
struct Lines(Vec<u32>);

impl Lines {
    fn new(src: &str) -> Lines {
        let mut v = vec![0u32];
        v.extend(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i as u32 + 1),
        );
        Lines(v)
    }

    /// 1-based (line, column); the column counts bytes.
    fn at(&self, off: u32) -> (u32, u32) {
        let i = self.0.partition_point(|s| *s <= off).saturating_sub(1);
        (i as u32 + 1, off - self.0[i] + 1)
    }
}

/// Where evidence is placed: its own span, or (for code found inside a constant or a decoded
/// payload) the span of the outer expression.
#[derive(Clone, Copy)]
struct Place {
    span: Span,
}

struct Found {
    kind: BehaviourKind,
    attributes: BTreeSet<String>,
    value: Option<String>,
    span: Span,
}

/// Analyse one module's source. `depth` counts nested analyses of decoded or eval'd code.
/// With `facts`, a module that parses without error also yields the review's facts
/// ([`crate::diff::js::from_parsed`]) from the same AST and scoping, so a review does not parse
/// it a second time.
pub(crate) fn analyse_source(
    src: &str,
    source_type: SourceType,
    limits: &JsLimits,
    depth: u32,
    facts: bool,
) -> Outcome {
    let started = Instant::now();
    // Before the parse: the parser's recursion is what the limit bounds (for code decoded
    // inside code too, analysed on the same thread).
    if let Some(why) = super::too_nested(src) {
        return Outcome {
            parse_error: Some(why),
            ..Outcome::default()
        };
    }
    let alloc = Allocator::default();
    let opts = ParseOptions {
        allow_return_outside_function: true,
        ..ParseOptions::default()
    };
    // The facts' similarity sketch is over the lexer's tokens: collected only when asked for.
    let parse = |st: SourceType| {
        let p = Parser::new(&alloc, src, st).with_options(opts);
        if facts {
            p.with_config(TokensParserConfig).parse()
        } else {
            p.parse()
        }
    };
    let mut ret = parse(source_type);
    let mut parse_error = None;
    if (ret.panicked || !ret.diagnostics.is_empty())
        && source_type.is_module()
        && !source_type.is_typescript()
    {
        // Not an ES module: CommonJS and sloppy-mode scripts (octal literals, `with`).
        let retry = parse(source_type.with_script(true));
        if !retry.panicked && retry.diagnostics.is_empty() {
            ret = retry;
        }
    }
    if ret.panicked || !ret.diagnostics.is_empty() {
        let first = ret
            .diagnostics
            .iter()
            .next()
            .map(|d| {
                let at = d
                    .labels
                    .as_ref()
                    .first()
                    .map(|l| Lines::new(src).at(l.offset()));
                match at {
                    Some((l, c)) => format!("{l}:{c}: {}", d.message),
                    None => d.message.to_string(),
                }
            })
            .unwrap_or_else(|| "the parser stopped".into());
        parse_error = Some(first);
        if ret.panicked {
            return Outcome {
                parse_error,
                ..Outcome::default()
            };
        }
    }
    let program = ret.program;
    let (module_record, tokens) = (ret.module_record, ret.tokens);
    let sem = SemanticBuilder::new().build(&program);
    let scoping = sem.semantic.scoping();
    let mut env = Env::new(scoping, limits.fold_bytes);
    let mut taints = HashMap::new();
    {
        let mut b = Binder {
            env: &mut env,
            taints: &mut taints,
            no_init: HashSet::new(),
        };
        b.visit_program(&program);
    }
    let lines = Lines::new(src);
    let mut d = Detector {
        env,
        taints,
        src,
        limits: *limits,
        depth,
        found: Vec::new(),
        keys: HashSet::new(),
        truncated: false,
        nodes: 0,
        started,
        stopped: false,
        in_fold: false,
        in_target: false,
        outer: None,
        obf_names: BTreeSet::new(),
        obf_first: None,
        has_network: false,
        pending_exfil: Vec::new(),
        scanned: [HashSet::new(), HashSet::new()],
    };
    d.visit_program(&program);
    d.finish_module();
    let behaviours = d
        .found
        .iter()
        .map(|f| {
            let (line, column) = lines.at(f.span.start);
            let (end, _) = lines.at(f.span.end.max(f.span.start));
            Behaviour {
                kind: f.kind,
                attributes: f.attributes.clone(),
                line,
                column,
                end_line: (end > line).then_some(end),
                snippet: snippet(src, f.span),
                value: f.value.clone(),
            }
        })
        .collect();
    let truncated = d.truncated || d.stopped;
    drop(d);
    let facts = if facts && parse_error.is_none() {
        let exports = crate::diff::js::exports_of(&module_record);
        let scoping = sem.semantic.into_scoping();
        Some(crate::diff::js::from_parsed(
            &alloc,
            src,
            program,
            &tokens,
            exports,
            Some(scoping),
        ))
    } else {
        None
    };
    Outcome {
        behaviours,
        parse_error,
        truncated,
        facts,
    }
}

fn snippet(src: &str, span: Span) -> String {
    let start = (span.start as usize).min(src.len());
    let mut end = (span.end as usize).clamp(start, src.len()).min(start + 120);
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    let mut s: String = src[start..end]
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if (span.end as usize) > end {
        s.push('…');
    }
    s
}

fn short(s: &str) -> String {
    if s.len() <= 200 {
        return s.to_string();
    }
    let mut end = 200;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Records what each write-once symbol is bound to, and which symbols hold tainted data.
struct Binder<'e, 's> {
    env: &'e mut Env<'s>,
    taints: &'e mut HashMap<SymbolId, Taint>,
    no_init: HashSet<SymbolId>,
}

impl Binder<'_, '_> {
    fn bind(&mut self, pat: &BindingPattern<'_>, v: Val, t: Taint) {
        match pat {
            BindingPattern::BindingIdentifier(b) => {
                let Some(sym) = b.symbol_id.get() else { return };
                if t > Taint::None {
                    self.taints.insert(sym, t);
                }
                if !self.env.reassigned(sym) && v != Val::Unknown {
                    self.env.values.insert(sym, v);
                }
            }
            BindingPattern::ObjectPattern(o) => {
                for p in &o.properties {
                    let key = match p.key.static_name() {
                        Some(k) => Val::str(k.to_string()),
                        None => match p.key.as_expression() {
                            Some(e) => self.env.eval(e),
                            None => Val::Unknown,
                        },
                    };
                    let m = self.env.member(&v, &key);
                    self.bind(&p.value, m, t);
                }
            }
            BindingPattern::ArrayPattern(a) => {
                for (i, el) in a.elements.iter().enumerate() {
                    if let Some(el) = el {
                        let m = self.env.member(&v, &Val::Num(i as f64));
                        self.bind(el, m, t);
                    }
                }
            }
            BindingPattern::AssignmentPattern(a) => self.bind(&a.left, v, t),
        }
    }
}

impl<'a> Visit<'a> for Binder<'_, '_> {
    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        walk::walk_variable_declarator(self, it);
        match &it.init {
            Some(init) => {
                let v = self.env.eval(init);
                let t = taint_of(self.env, self.taints, init, 0);
                self.bind(&it.id, v, t);
            }
            None => {
                if let BindingPattern::BindingIdentifier(b) = &it.id
                    && let Some(sym) = b.symbol_id.get()
                {
                    self.no_init.insert(sym);
                }
            }
        }
    }

    fn visit_assignment_expression(&mut self, it: &AssignmentExpression<'a>) {
        walk::walk_assignment_expression(self, it);
        if it.operator != AssignmentOperator::Assign {
            return;
        }
        if let AssignmentTarget::AssignmentTargetIdentifier(id) = &it.left
            && let Some(sym) = self.env.symbol_of(id)
        {
            let t = taint_of(self.env, self.taints, &it.right, 0);
            if t > Taint::None {
                self.taints.insert(sym, t);
            }
            // `var x; ... x = require("fs")`: bundlers' lazy initialisers.
            if self.no_init.contains(&sym)
                && self.env.writes(sym) == 1
                && !self.env.values.contains_key(&sym)
            {
                let v = self.env.eval(&it.right);
                if v != Val::Unknown {
                    self.env.values.insert(sym, v);
                }
            }
        }
    }

    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        let base = module_ref(it.source.value.as_str());
        for s in it.specifiers.iter().flatten() {
            let (local, v) = match s {
                ImportDeclarationSpecifier::ImportNamespaceSpecifier(n) => {
                    (&n.local, Val::Ref(base.clone()))
                }
                ImportDeclarationSpecifier::ImportDefaultSpecifier(d) => {
                    (&d.local, Val::Ref(base.clone()))
                }
                ImportDeclarationSpecifier::ImportSpecifier(i) => {
                    let name = i.imported.name();
                    let v = if name == "default" {
                        Val::Ref(base.clone())
                    } else {
                        self.env
                            .member(&Val::Ref(base.clone()), &Val::str(name.to_string()))
                    };
                    (&i.local, v)
                }
            };
            if let Some(sym) = local.symbol_id.get() {
                self.env.values.insert(sym, v);
            }
        }
    }
}

fn is_env_object(v: &Val) -> bool {
    matches!(
        v.as_ref_path(),
        Some("process.env" | "Bun.env" | "import.meta.env")
    )
}

/// What host data an expression carries.
fn taint_of(
    env: &Env<'_>,
    taints: &HashMap<SymbolId, Taint>,
    e: &Expression<'_>,
    depth: u32,
) -> Taint {
    if depth > 12 {
        return Taint::None;
    }
    let d = depth + 1;
    let t = |x: &Expression<'_>| taint_of(env, taints, x, d);
    match e {
        Expression::Identifier(id) => {
            if let Some(sym) = env.symbol_of(id) {
                return taints.get(&sym).copied().unwrap_or(Taint::None);
            }
            if is_env_object(&env.ident(id)) {
                Taint::Bulk
            } else {
                Taint::None
            }
        }
        Expression::StaticMemberExpression(_) | Expression::ComputedMemberExpression(_) => {
            let Some(m) = e.as_member_expression() else {
                return Taint::None;
            };
            let obj = env.eval(Env::member_object(m));
            if is_env_object(&obj) {
                return Taint::Env;
            }
            if is_env_object(&env.eval(e)) {
                return Taint::Bulk;
            }
            t(Env::member_object(m))
        }
        Expression::CallExpression(c) => {
            let target = match c.callee.as_member_expression() {
                Some(m) => env.member(&env.eval(Env::member_object(m)), &env.member_key(m, 0)),
                None => env.eval(&c.callee),
            };
            if let Some(p) = target.as_ref_path() {
                if let Some(f) = p.strip_prefix("mod:os.")
                    && rules::SYSTEM_INFO_FNS.contains(&f)
                {
                    return Taint::Bulk;
                }
                let fs_fn = p
                    .strip_prefix("mod:fs.promises.")
                    .or_else(|| p.strip_prefix("mod:fs."));
                if let Some(f) = fs_fn
                    && rules::FS_READ_FNS.contains(&f)
                    && let Some(arg) = c.arguments.first().and_then(|a| a.as_expression())
                    && env
                        .eval(arg)
                        .as_str()
                        .and_then(rules::sensitive_path)
                        .is_some()
                {
                    return Taint::Bulk;
                }
            }
            let mut best = match c.callee.as_member_expression() {
                Some(m) => t(Env::member_object(m)),
                None => Taint::None,
            };
            for a in &c.arguments {
                if let Some(x) = a.as_expression() {
                    let at = t(x);
                    best = best.max(if at == Taint::None && is_env_object(&env.eval(x)) {
                        Taint::Bulk
                    } else {
                        at
                    });
                }
            }
            best
        }
        Expression::AwaitExpression(a) => t(&a.argument),
        Expression::ParenthesizedExpression(p) => t(&p.expression),
        Expression::BinaryExpression(b) => t(&b.left).max(t(&b.right)),
        Expression::LogicalExpression(l) => t(&l.left).max(t(&l.right)),
        Expression::ConditionalExpression(c) => t(&c.consequent).max(t(&c.alternate)),
        Expression::TemplateLiteral(tl) => {
            tl.expressions.iter().map(t).max().unwrap_or(Taint::None)
        }
        Expression::SequenceExpression(s) => {
            s.expressions.iter().map(t).max().unwrap_or(Taint::None)
        }
        Expression::ArrayExpression(a) => a
            .elements
            .iter()
            .filter_map(|el| el.as_expression())
            .map(t)
            .max()
            .unwrap_or(Taint::None),
        Expression::ObjectExpression(o) => o
            .properties
            .iter()
            .map(|p| match p {
                ObjectPropertyKind::ObjectProperty(p) => t(&p.value),
                ObjectPropertyKind::SpreadProperty(s) => {
                    if is_env_object(&env.eval(&s.argument)) {
                        Taint::Bulk
                    } else {
                        t(&s.argument)
                    }
                }
            })
            .max()
            .unwrap_or(Taint::None),
        _ => Taint::None,
    }
}

/// Paths whose assignment patches the platform.
const MONKEY_PREFIXES: &[&str] = &[
    "Function.prototype.",
    "Object.prototype.",
    "Array.prototype.",
    "String.prototype.",
    "Number.prototype.",
    "Boolean.prototype.",
    "Promise.prototype.",
    "RegExp.prototype.",
    "XMLHttpRequest.prototype.",
    "WebSocket.prototype.",
    "JSON.",
    "require.cache",
    "require.extensions",
    "mod:module._load",
    "mod:module._resolveFilename",
    "mod:module._extensions",
    "mod:module._compile",
    "mod:module.prototype.",
    "mod:module.Module.",
    "mod:child_process.",
];
const MONKEY_EXACT: &[&str] = &[
    "fetch",
    "require",
    "eval",
    "Function",
    "XMLHttpRequest",
    "WebSocket",
    "process.binding",
    "process.dlopen",
    "Object.defineProperty",
    "Object.prototype",
    "Function.prototype",
    "Array.prototype",
    "mod:http.request",
    "mod:http.get",
    "mod:https.request",
    "mod:https.get",
];

fn is_monkey_target(p: &str) -> bool {
    MONKEY_EXACT.contains(&p)
        || MONKEY_PREFIXES
            .iter()
            .any(|m| p.starts_with(m) || p == m.trim_end_matches('.'))
}

struct Detector<'s> {
    env: Env<'s>,
    taints: HashMap<SymbolId, Taint>,
    src: &'s str,
    limits: JsLimits,
    depth: u32,
    found: Vec<Found>,
    keys: HashSet<(BehaviourKind, Option<String>, BTreeSet<String>)>,
    truncated: bool,
    nodes: u64,
    started: Instant,
    stopped: bool,
    /// Inside an expression already folded to a string: its literal parts are not scanned again.
    in_fold: bool,
    /// Inside an assignment target: members are written, not read.
    in_target: bool,
    /// Evidence for nested analyses is placed here.
    outer: Option<Place>,
    obf_names: BTreeSet<String>,
    obf_first: Option<Span>,
    has_network: bool,
    pending_exfil: Vec<(Span, String)>,
    /// The strings scanned so far, as written and decoded.
    scanned: [HashSet<Box<str>>; 2],
}

fn attrs(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Detector<'_> {
    fn emit(
        &mut self,
        kind: BehaviourKind,
        attributes: BTreeSet<String>,
        span: Span,
        value: Option<String>,
    ) {
        let value = value.map(|v| short(&v));
        let key = (kind, value.clone(), attributes.clone());
        if self.keys.contains(&key) {
            return;
        }
        if self.found.len() >= self.limits.behaviours_per_module {
            self.truncated = true;
            return;
        }
        if kind == BehaviourKind::Network {
            self.has_network = true;
        }
        self.keys.insert(key);
        let span = self.outer.map_or(span, |p| p.span);
        self.found.push(Found {
            kind,
            attributes,
            value,
            span,
        });
    }

    fn tick(&mut self) -> bool {
        if self.stopped {
            return false;
        }
        self.nodes += 1;
        if self.nodes > self.limits.ast_nodes
            || (self.nodes.is_multiple_of(4096)
                && self.started.elapsed().as_millis() as u64 > self.limits.millis)
        {
            self.stopped = true;
            return false;
        }
        true
    }

    /// Scan a (literal, folded or decoded) string for URLs, IPs, sensitive paths, tokens and
    /// encoded payloads.
    fn scan_string(&mut self, v: &Val, span: Span) {
        let Some(s) = v.as_str() else { return };
        if s.len() < 4 {
            return;
        }
        let decoded = v.is_decoded();
        // Each string once, keyed by the string itself: a 64-bit hash with a fixed key (as
        // this was) lets a module pair a signal-bearing string with an innocuous one of the
        // same hash, found by a birthday search, and the signal is never scanned.
        let seen = &mut self.scanned[usize::from(decoded)];
        if seen.contains(s) {
            return;
        }
        seen.insert(s.into());
        let extra = |mut a: BTreeSet<String>| {
            if decoded {
                a.insert("decoded".into());
            }
            a
        };
        if s.contains("://") {
            for u in rules::urls_in(s, 16) {
                let a = extra(u.attributes.iter().map(|x| x.to_string()).collect());
                self.emit(BehaviourKind::Url, a, span, Some(u.url));
            }
        } else if let Some(ip) = rules::ipv4(s)
            && rules::is_public(ip)
        {
            self.emit(
                BehaviourKind::Url,
                extra(attrs(&["suspicious"])),
                span,
                Some(s.to_string()),
            );
        }
        if s.contains('.') || s.contains('/') || s.contains('\\') {
            if rules::sensitive_path(s).is_some() {
                self.emit(
                    BehaviourKind::SensitivePath,
                    extra(BTreeSet::new()),
                    span,
                    Some(s.to_string()),
                );
            }
        } else if matches!(s, "Login Data" | "wallet.dat") {
            self.emit(
                BehaviourKind::SensitivePath,
                extra(BTreeSet::new()),
                span,
                Some(s.to_string()),
            );
        }
        if s.contains("_authToken") {
            self.emit(
                BehaviourKind::SelfPropagation,
                extra(attrs(&["registry-token"])),
                span,
                Some(s.to_string()),
            );
        }
        if decoded && rules::command_suspicious(s) && s.contains(' ') {
            self.emit(
                BehaviourKind::Obfuscation,
                attrs(&["decoded", "suspicious-command"]),
                span,
                Some(s.to_string()),
            );
        }
        // An encoded literal: decode (bounded) and look again.
        if !decoded
            && self.depth < self.limits.decode_depth
            && let Some(enc) = decode::looks_encoded(s)
        {
            let bytes = match enc {
                decode::Encoding::Base64 => decode::base64(s, self.limits.fold_bytes),
                decode::Encoding::Hex => decode::hex(s, self.limits.fold_bytes),
            };
            if let Some(b) = bytes
                && decode::is_text(&b)
            {
                let text = String::from_utf8_lossy(&b).into_owned();
                if decode::interesting(&text) {
                    let which = if enc == decode::Encoding::Hex {
                        "hex"
                    } else {
                        "base64"
                    };
                    self.emit(
                        BehaviourKind::Obfuscation,
                        attrs(&["encoded-literal", which]),
                        span,
                        Some(text.clone()),
                    );
                    let dv = Val::Str {
                        s: text.clone(),
                        exact: true,
                        decoded: true,
                    };
                    self.scan_string(&dv, span);
                    self.nested(&text, span, "decoded");
                }
            }
        }
    }

    /// Analyse code found in a constant (eval'd or decoded) and place its behaviours here.
    fn nested(&mut self, code: &str, span: Span, attribute: &str) {
        if self.depth >= self.limits.decode_depth || code.len() > self.limits.fold_bytes {
            return;
        }
        let looks_like_code = ["(", "=", ";"].iter().any(|c| code.contains(c));
        if !looks_like_code {
            return;
        }
        let inner = analyse_source(code, SourceType::cjs(), &self.limits, self.depth + 1, false);
        if inner.parse_error.is_some() {
            return;
        }
        let saved = self.outer;
        self.outer = Some(saved.unwrap_or(Place { span }));
        for b in inner.behaviours {
            let mut a = b.attributes;
            a.insert(attribute.to_string());
            self.emit(b.kind, a, span, b.value);
        }
        self.outer = saved;
    }

    fn arg<'b, 'a>(args: &'b [Argument<'a>], i: usize) -> Option<&'b Expression<'a>> {
        args.get(i).and_then(|a| a.as_expression())
    }

    fn on_module(&mut self, spec: &str, span: Span) {
        let m = spec.strip_prefix("node:").unwrap_or(spec);
        let base = if m.starts_with('@') {
            m.splitn(3, '/').take(2).collect::<Vec<_>>().join("/")
        } else {
            m.split('/').next().unwrap_or(m).to_string()
        };
        if rules::NETWORK_MODULES.contains(&m) || rules::NETWORK_MODULES.contains(&base.as_str()) {
            self.emit(
                BehaviourKind::Network,
                BTreeSet::new(),
                span,
                Some(base.clone()),
            );
        }
        if rules::SPAWN_MODULES.contains(&base.as_str()) {
            self.emit(
                BehaviourKind::ProcessSpawn,
                BTreeSet::new(),
                span,
                Some(base.clone()),
            );
        }
        if m.ends_with(".node") {
            self.emit(
                BehaviourKind::Executable,
                attrs(&["native-addon"]),
                span,
                Some(spec.to_string()),
            );
        }
    }

    fn on_require(&mut self, args: &[Argument<'_>], span: Span, aliased: bool, how: &str) {
        let Some(a0) = Self::arg(args, 0) else { return };
        if let Expression::StringLiteral(s) = a0 {
            let spec = s.value.as_str();
            self.on_module(spec, span);
            if aliased {
                self.emit(
                    BehaviourKind::DynamicRequire,
                    attrs(&["aliased"]),
                    span,
                    Some(spec.to_string()),
                );
            }
            return;
        }
        let v = self.env.eval(a0);
        let mut a = BTreeSet::new();
        if aliased {
            a.insert("aliased".to_string());
        }
        if v.is_decoded() {
            a.insert("decoded".to_string());
            self.emit(
                BehaviourKind::Obfuscation,
                attrs(&["decoded", "into-require"]),
                span,
                v.as_str().map(str::to_string),
            );
        }
        match &v {
            Val::Str { s, exact: true, .. } => {
                let s = s.clone();
                self.on_module(&s, span);
                a.insert("computed".into());
                self.emit(BehaviourKind::DynamicRequire, a, span, Some(s));
            }
            Val::Str { s, .. } => {
                a.insert("non-constant".into());
                self.emit(BehaviourKind::DynamicRequire, a, span, Some(s.clone()));
            }
            _ => {
                a.insert("non-constant".into());
                self.emit(
                    BehaviourKind::DynamicRequire,
                    a,
                    span,
                    Some(how.to_string()),
                );
            }
        }
    }

    fn on_dynamic_code(&mut self, api: &str, code: Option<&Expression<'_>>, span: Span) {
        let v = code.map_or(Val::Unknown, |c| self.env.eval(c));
        let mut a = BTreeSet::new();
        match v.exact_str() {
            Some(s) => {
                let s = s.to_string();
                if v.is_decoded() {
                    a.insert("decoded".to_string());
                    self.emit(
                        BehaviourKind::Obfuscation,
                        attrs(&["decoded", "into-eval"]),
                        span,
                        Some(s.clone()),
                    );
                }
                self.emit(BehaviourKind::DynamicCode, a, span, Some(api.to_string()));
                self.nested(&s, span, "eval");
            }
            None => {
                if code.is_some() || api.starts_with("WebAssembly") {
                    a.insert("non-constant".to_string());
                }
                if v.is_decoded() {
                    a.insert("decoded".to_string());
                    self.emit(
                        BehaviourKind::Obfuscation,
                        attrs(&["decoded", "into-eval"]),
                        span,
                        v.as_str().map(str::to_string),
                    );
                }
                self.emit(BehaviourKind::DynamicCode, a, span, Some(api.to_string()));
            }
        }
    }

    /// Options of a spawn call (an object literal): shell, silent.
    fn spawn_options(&self, e: Option<&Expression<'_>>) -> (bool, bool) {
        let Some(Expression::ObjectExpression(o)) = e else {
            return (false, false);
        };
        let (mut shell, mut silent) = (false, false);
        for p in &o.properties {
            let ObjectPropertyKind::ObjectProperty(p) = p else {
                continue;
            };
            let Some(k) = p.key.static_name() else {
                continue;
            };
            let truthy = matches!(&p.value, Expression::BooleanLiteral(b) if b.value)
                || matches!(&p.value, Expression::StringLiteral(_))
                || matches!(&p.value, Expression::UnaryExpression(u) if u.operator == UnaryOperator::LogicalNot
                    && matches!(&u.argument, Expression::NumericLiteral(n) if n.value == 0.0));
            match k.as_ref() {
                "shell" => shell |= truthy,
                "detached" | "windowsHide" => silent |= truthy,
                "stdio" => {
                    let v = self.env.eval(&p.value);
                    silent |= match &v {
                        Val::Str { s, .. } => s == "ignore",
                        Val::Arr(items) => {
                            !items.is_empty() && items.iter().all(|i| i.as_str() == Some("ignore"))
                        }
                        _ => false,
                    };
                }
                _ => {}
            }
        }
        (shell, silent)
    }

    fn words(v: &Val) -> Option<Vec<String>> {
        match v {
            Val::Arr(items) => Some(
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| HOLE.to_string(), str::to_string))
                    .collect(),
            ),
            _ => None,
        }
    }

    fn on_spawn(&mut self, api: &str, args: &[Argument<'_>], span: Span) {
        let a0 = Self::arg(args, 0)
            .map(|e| self.env.eval(e))
            .unwrap_or(Val::Unknown);
        let a1 = Self::arg(args, 1);
        let mut shell = false;
        let (cmd, opts): (Option<String>, Option<&Expression<'_>>) = match api {
            "child_process.exec"
            | "child_process.execSync"
            | "shelljs.exec"
            | "execa.command"
            | "execa.execaCommand"
            | "execa.execaCommandSync" => {
                shell = !api.starts_with("execa");
                (a0.as_str().map(str::to_string), a1)
            }
            "Bun.spawn" | "Bun.spawnSync" => {
                let (list, o) = match (&a0, Self::arg(args, 0)) {
                    (Val::Arr(_), _) => (Self::words(&a0), a1),
                    (_, Some(Expression::ObjectExpression(obj))) => {
                        let cmd = obj.properties.iter().find_map(|p| match p {
                            ObjectPropertyKind::ObjectProperty(p)
                                if p.key.static_name().as_deref() == Some("cmd") =>
                            {
                                Some(self.env.eval(&p.value))
                            }
                            _ => None,
                        });
                        (cmd.as_ref().and_then(Self::words), Self::arg(args, 0))
                    }
                    _ => (None, a1),
                };
                if let Some(l) = &list
                    && let Some((f, rest)) = l.split_first()
                {
                    shell |= rules::is_shell_invocation(f, rest);
                }
                (list.map(|l| l.join(" ")), o)
            }
            _ => {
                // spawn / execFile / fork / execa / cross-spawn / Deno.Command: (file, args?, opts?)
                let file = a0.as_str().map(str::to_string);
                let argv = a1.map(|e| self.env.eval(e)).as_ref().and_then(Self::words);
                let opts = if argv.is_some() {
                    Self::arg(args, 2)
                } else {
                    a1
                };
                if let (Some(f), Some(av)) = (&file, &argv) {
                    shell |= rules::is_shell_invocation(f, av);
                }
                let prefix = if api.ends_with("fork") { "node " } else { "" };
                let cmd = file.map(|f| match &argv {
                    Some(av) if !av.is_empty() => format!("{prefix}{f} {}", av.join(" ")),
                    _ => format!("{prefix}{f}"),
                });
                (cmd, opts)
            }
        };
        let (shell_opt, silent) = self.spawn_options(opts);
        let mut a = BTreeSet::new();
        if shell || shell_opt {
            a.insert("shell".to_string());
        }
        if silent {
            a.insert("silent".to_string());
        }
        if let Some(c) = &cmd {
            if rules::command_suspicious(c) {
                a.insert("suspicious-command".into());
            }
            if rules::command_system_info(c) {
                self.emit(
                    BehaviourKind::SystemInfo,
                    BTreeSet::new(),
                    span,
                    Some(c.clone()),
                );
            }
            if rules::command_publishes(c) {
                self.emit(
                    BehaviourKind::SelfPropagation,
                    attrs(&["npm-publish"]),
                    span,
                    Some(c.clone()),
                );
            }
            if a0.is_decoded() {
                a.insert("decoded".into());
            }
        } else {
            a.insert("non-constant".into());
        }
        self.emit(
            BehaviourKind::ProcessSpawn,
            a,
            span,
            Some(cmd.unwrap_or_else(|| api.to_string())),
        );
    }

    fn args_taint(&self, args: &[Argument<'_>]) -> Taint {
        args.iter()
            .filter_map(|a| a.as_expression())
            .map(|x| {
                let t = taint_of(&self.env, &self.taints, x, 0);
                if t == Taint::None && is_env_object(&self.env.eval(x)) {
                    Taint::Bulk
                } else {
                    t
                }
            })
            .max()
            .unwrap_or(Taint::None)
    }

    fn on_network(&mut self, api: &str, args: &[Argument<'_>], span: Span) {
        self.emit(
            BehaviourKind::Network,
            BTreeSet::new(),
            span,
            Some(api.to_string()),
        );
        let t = self.args_taint(args);
        let suspicious_url = Self::arg(args, 0)
            .map(|e| self.env.eval(e))
            .and_then(|v| v.as_str().map(|s| rules::urls_in(s, 4)))
            .is_some_and(|u| u.iter().any(|f| f.attributes.contains(&"suspicious")));
        let dns = api.starts_with("dns");
        if t == Taint::Bulk || (t == Taint::Env && (suspicious_url || dns)) {
            let what = if t == Taint::Bulk {
                "host data"
            } else {
                "environment value"
            };
            self.emit(
                BehaviourKind::Exfiltration,
                BTreeSet::new(),
                span,
                Some(format!("{what} -> {api}")),
            );
        }
    }

    fn on_call(
        &mut self,
        callee: &Expression<'_>,
        args: &[Argument<'_>],
        span: Span,
        is_new: bool,
    ) {
        let (target, method) = match callee.as_member_expression() {
            Some(m) => {
                let obj = self.env.eval(Env::member_object(m));
                let key = self.env.member_key(m, 0);
                (
                    self.env.member(&obj, &key),
                    key.exact_str().map(str::to_string),
                )
            }
            None => (self.env.eval(callee), None),
        };
        let direct_require = matches!(callee, Expression::Identifier(id) if id.name == "require" && self.env.is_global(id));
        if let Some(path) = target.as_ref_path() {
            let path = path.to_string();
            self.on_path(&path, args, span, is_new, direct_require);
        }
        // String-array rotation: `arr.push(arr.shift())`, `arr['push'](arr['shift']())`.
        if method.as_deref() == Some("push")
            && let Some(Expression::CallExpression(inner)) = Self::arg(args, 0)
            && let Some(m) = inner.callee.as_member_expression()
            && self.env.member_key(m, 0).exact_str() == Some("shift")
        {
            self.emit(
                BehaviourKind::Obfuscation,
                attrs(&["string-array-rotation"]),
                span,
                None,
            );
        }
        let to_console = callee.as_member_expression().is_some_and(|m| {
            self.env
                .eval(Env::member_object(m))
                .as_ref_path()
                .is_some_and(|p| p.starts_with("process.std") || p.starts_with("console"))
        });
        if let Some(m) = method.as_deref()
            && !to_console
            && matches!(m, "send" | "write" | "end")
            && self.args_taint(args) == Taint::Bulk
        {
            self.pending_exfil.push((span, m.to_string()));
        }
    }

    fn on_path(
        &mut self,
        path: &str,
        args: &[Argument<'_>],
        span: Span,
        is_new: bool,
        direct_require: bool,
    ) {
        let a0 = Self::arg(args, 0);
        match path {
            "require" | "require:bundler" | "process.getBuiltinModule" => {
                self.on_require(args, span, path == "require" && !direct_require, "require");
                return;
            }
            "eval" => return self.on_dynamic_code("eval", a0, span),
            "Function" => {
                return self.on_dynamic_code(
                    "Function",
                    args.last().and_then(|a| a.as_expression()),
                    span,
                );
            }
            "setTimeout" | "setInterval" | "setImmediate" => {
                if let Some(a) = a0
                    && matches!(self.env.eval(a), Val::Str { .. })
                {
                    self.on_dynamic_code(path, a0, span);
                }
                return;
            }
            "process.binding" | "process._linkedBinding" => {
                let v = a0
                    .map(|e| self.env.eval(e))
                    .and_then(|v| v.as_str().map(str::to_string));
                self.emit(
                    BehaviourKind::ProcessSpawn,
                    BTreeSet::new(),
                    span,
                    Some(format!("{path}({})", v.unwrap_or_default())),
                );
                return;
            }
            "process.dlopen" => {
                let v = a0
                    .map(|e| self.env.eval(e))
                    .and_then(|v| v.as_str().map(str::to_string));
                self.emit(
                    BehaviourKind::Executable,
                    attrs(&["dlopen"]),
                    span,
                    v.or(Some(path.into())),
                );
                return;
            }
            "Deno.env.get" => {
                if let Some(k) = a0
                    .map(|e| self.env.eval(e))
                    .and_then(|v| v.exact_str().map(str::to_string))
                {
                    self.env_read(&k, span);
                }
                return;
            }
            "Bun.$" => {
                return self.emit(
                    BehaviourKind::ProcessSpawn,
                    attrs(&["shell"]),
                    span,
                    Some("Bun.$".into()),
                );
            }
            "JSON.stringify"
            | "Object.keys"
            | "Object.values"
            | "Object.entries"
            | "Object.assign"
            | "Object.getOwnPropertyNames"
            | "Object.fromEntries"
            | "Reflect.ownKeys"
            | "btoa"
            | "String"
            | "encodeURIComponent"
            | "structuredClone" => {
                if args
                    .iter()
                    .filter_map(|a| a.as_expression())
                    .any(|x| is_env_object(&self.env.eval(x)))
                {
                    self.emit(
                        BehaviourKind::EnvSerialize,
                        BTreeSet::new(),
                        span,
                        Some(path.to_string()),
                    );
                }
                return;
            }
            "Object.defineProperty"
            | "Object.defineProperties"
            | "Reflect.defineProperty"
            | "Object.setPrototypeOf" => {
                if let Some(t) = a0.map(|e| self.env.eval(e))
                    && let Some(p) = t.as_ref_path()
                    && (is_monkey_target(p) || is_monkey_target(&format!("{p}.")) || p.is_empty())
                    && let Some(key) = Self::arg(args, 1)
                        .map(|e| self.env.eval(e))
                        .and_then(|v| v.exact_str().map(str::to_string))
                {
                    let key = Some(key);
                    let p = if p.is_empty() {
                        "globalThis".to_string()
                    } else {
                        p.to_string()
                    };
                    let full = match key {
                        Some(k) => format!("{p}.{k}"),
                        None => p,
                    };
                    if full.starts_with("globalThis.")
                        && !is_monkey_target(&full["globalThis.".len()..])
                    {
                        return;
                    }
                    self.emit(
                        BehaviourKind::MonkeyPatch,
                        BTreeSet::new(),
                        span,
                        Some(full),
                    );
                }
                return;
            }
            "atob"
            | "Buffer.from"
            | "String.fromCharCode"
            | "String.fromCodePoint"
            | "decodeURIComponent"
            | "unescape" => {
                let v = self.env.decode_call(path, args, 0);
                if v.is_decoded()
                    && let Some(s) = v.exact_str()
                    && s.chars().count() >= 8
                    && decode::is_text(s.as_bytes())
                {
                    let s = s.to_string();
                    // Percent-decoding a URL is ordinary; only payloads worth a second look count.
                    let worth = !path.starts_with("decode") && path != "unescape"
                        || decode::interesting(&s);
                    if worth && self.depth < self.limits.decode_depth {
                        self.emit(
                            BehaviourKind::Obfuscation,
                            attrs(&["decoded"]),
                            span,
                            Some(s.clone()),
                        );
                        self.scan_string(&v, span);
                        self.nested(&s, span, "decoded");
                    }
                }
                return;
            }
            _ => {}
        }
        if let Some(m) = path.strip_prefix("mod:") {
            let (module, func) = m.split_once('.').unwrap_or((m, ""));
            match module {
                "child_process" if rules::CHILD_PROCESS_FNS.iter().any(|(f, _)| *f == func) => {
                    return self.on_spawn(&format!("child_process.{func}"), args, span);
                }
                "execa" | "cross-spawn" => return self.on_spawn(m, args, span),
                "shelljs" if func == "exec" => return self.on_spawn("shelljs.exec", args, span),
                "os" if rules::SYSTEM_INFO_FNS.contains(&func) => {
                    return self.emit(
                        BehaviourKind::SystemInfo,
                        BTreeSet::new(),
                        span,
                        Some(format!("os.{func}")),
                    );
                }
                // Only what compiles or runs code (`vm.createContext`, `vm.isContext` do not).
                "vm" if matches!(
                    func,
                    "runInThisContext"
                        | "runInNewContext"
                        | "runInContext"
                        | "compileFunction"
                        | "Script"
                        | "createScript"
                        | "SourceTextModule"
                ) =>
                {
                    return self.on_dynamic_code(&format!("vm.{func}"), a0, span);
                }
                "fs" | "fs-extra" | "graceful-fs" => {
                    let f = func.strip_prefix("promises.").unwrap_or(func);
                    let f = f.strip_suffix("Sync").unwrap_or(f);
                    if rules::FS_WRITE_FNS.contains(&f) {
                        return self.on_fs_write(f, args, span);
                    }
                }
                _ => {}
            }
            if rules::NETWORK_MODULES.contains(&module)
                && (!func.is_empty() || !is_new || module == "ws")
            {
                // `https.request`, not `https.Agent.prototype.getName.call`.
                let api = match func.split('.').next() {
                    Some(f) if !f.is_empty() => format!("{module}.{f}"),
                    _ => module.to_string(),
                };
                return self.on_network(&api, args, span);
            }
            return;
        }
        if rules::NETWORK_GLOBALS.contains(&path) {
            return self.on_network(path, args, span);
        }
        if path == "Bun.write" {
            return self.on_fs_write("Bun.write", args, span);
        }
        if matches!(path, "Bun.spawn" | "Bun.spawnSync") {
            return self.on_spawn(path, args, span);
        }
        if matches!(path, "Deno.Command" | "Deno.run") {
            return self.on_spawn(path, args, span);
        }
        if let Some(f) = path.strip_prefix("WebAssembly.")
            && matches!(
                f,
                "compile" | "instantiate" | "Module" | "compileStreaming" | "instantiateStreaming"
            )
        {
            self.on_dynamic_code(path, a0, span);
            self.emit(
                BehaviourKind::Executable,
                attrs(&["wasm"]),
                span,
                Some(path.to_string()),
            );
        }
    }

    fn on_fs_write(&mut self, f: &str, args: &[Argument<'_>], span: Span) {
        if f == "open" {
            let write = Self::arg(args, 1)
                .map(|e| self.env.eval(e))
                .and_then(|v| v.exact_str().map(|s| s.contains('w') || s.contains('a')))
                .unwrap_or(false);
            if !write {
                return;
            }
        }
        let Some(p) = Self::arg(args, 0).map(|e| self.env.eval(e)) else {
            return;
        };
        let Some(path) = p.as_str() else { return };
        let path = path.to_string();
        let lower = path.to_ascii_lowercase();
        if lower.ends_with("package.json")
            && (lower.contains("node_modules") || lower.contains("../"))
        {
            self.emit(
                BehaviourKind::SelfPropagation,
                attrs(&["package-json-write"]),
                span,
                Some(path.clone()),
            );
        }
        if rules::outside_package(&path) {
            let mut a = BTreeSet::new();
            if rules::persistence_path(&path) {
                a.insert("persistence".to_string());
            }
            self.emit(BehaviourKind::FsWrite, a, span, Some(path));
        }
    }

    fn env_read(&mut self, name: &str, span: Span) {
        let mut a = BTreeSet::new();
        if rules::credential_env(name) {
            a.insert("credential".to_string());
        }
        if matches!(
            name,
            "NPM_TOKEN" | "NODE_AUTH_TOKEN" | "NPM_CONFIG__AUTH" | "npm_config__authToken"
        ) {
            self.emit(
                BehaviourKind::SelfPropagation,
                attrs(&["registry-token"]),
                span,
                Some(name.to_string()),
            );
        }
        self.emit(BehaviourKind::EnvRead, a, span, Some(name.to_string()));
    }

    fn check_ident_name(&mut self, name: &str, span: Span) {
        if let Some(rest) = name.strip_prefix("_0x")
            && rest.len() >= 4
            && rest.bytes().all(|b| b.is_ascii_hexdigit())
        {
            if self.obf_names.len() < 64 {
                self.obf_names.insert(name.to_string());
            }
            self.obf_first.get_or_insert(span);
        }
    }

    fn finish_module(&mut self) {
        if self.obf_names.len() >= 3
            && let Some(span) = self.obf_first
        {
            let n = self.obf_names.len();
            self.emit(
                BehaviourKind::Obfuscation,
                attrs(&["obfuscator-names"]),
                span,
                Some(format!("{n}+ _0x names")),
            );
        }
        if self.has_network {
            for (span, m) in std::mem::take(&mut self.pending_exfil) {
                self.emit(
                    BehaviourKind::Exfiltration,
                    BTreeSet::new(),
                    span,
                    Some(format!("host data -> .{m}()")),
                );
            }
        }
        self.scan_source();
    }

    /// Whole-source signatures: jsfuck-style runs, invisible and bidi characters.
    fn scan_source(&mut self) {
        let b = self.src.as_bytes();
        let mut run = 0usize;
        for (i, &c) in b.iter().enumerate() {
            if matches!(c, b'[' | b']' | b'(' | b')' | b'!' | b'+') {
                run += 1;
                if run == 200 {
                    let start = (i + 1 - run) as u32;
                    self.emit(
                        BehaviourKind::Obfuscation,
                        attrs(&["jsfuck"]),
                        Span::new(start, start + 40),
                        None,
                    );
                }
            } else if !c.is_ascii_whitespace() {
                run = 0;
            }
        }
        let mut seen = BTreeSet::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if !(0xe1..=0xef).contains(&c) {
                i += 1;
                continue;
            }
            let Some(ch) = self.src[i..].chars().next() else {
                break;
            };
            let n = ch.len_utf8();
            if let Some(class) = rules::invisible_class(ch) {
                let zw = matches!(ch, '\u{200B}'..='\u{200D}');
                let ident = |x: Option<&u8>| {
                    x.is_some_and(|x| x.is_ascii_alphanumeric() || *x == b'_' || *x == b'$')
                };
                let counts = !zw || (i > 0 && ident(b.get(i - 1)) && ident(b.get(i + n)));
                if counts && seen.insert(class) {
                    let s = i as u32;
                    self.emit(
                        BehaviourKind::Obfuscation,
                        attrs(&[class]),
                        Span::new(s, s + n as u32),
                        Some(format!("U+{:04X}", ch as u32)),
                    );
                }
            }
            i += n;
        }
    }

    fn is_fold_root(e: &Expression<'_>) -> bool {
        match e {
            Expression::BinaryExpression(b) => b.operator == BinaryOperator::Addition,
            Expression::TemplateLiteral(t) => !t.expressions.is_empty(),
            Expression::CallExpression(c) => c.callee.as_member_expression().is_some_and(|m| {
                matches!(m, MemberExpression::StaticMemberExpression(s)
                    if matches!(s.property.name.as_str(), "join" | "concat" | "reverse" | "replace" | "split" | "toString"))
            }),
            Expression::ComputedMemberExpression(c) => matches!(c.object, Expression::ArrayExpression(_)),
            _ => false,
        }
    }
}

impl<'a> Visit<'a> for Detector<'_> {
    fn visit_expression(&mut self, it: &Expression<'a>) {
        if !self.tick() {
            return;
        }
        if !self.in_fold && Self::is_fold_root(it) {
            let v = self.env.eval(it);
            if matches!(v, Val::Str { .. }) {
                self.scan_string(&v, it.span());
                self.in_fold = true;
                walk::walk_expression(self, it);
                self.in_fold = false;
                return;
            }
        }
        walk::walk_expression(self, it);
    }

    fn visit_string_literal(&mut self, it: &StringLiteral<'a>) {
        if self.in_fold {
            return;
        }
        let v = Val::str(it.value.as_str());
        self.scan_string(&v, it.span);
        // Dense `\x` escapes in the source text of one literal.
        let raw = self
            .src
            .get(it.span.start as usize..it.span.end as usize)
            .unwrap_or("");
        let escapes = raw.matches("\\x").count();
        if escapes >= 8 && escapes * 4 * 2 >= raw.len() {
            self.emit(
                BehaviourKind::Obfuscation,
                attrs(&["hex-escapes"]),
                it.span,
                Some(short(it.value.as_str())),
            );
        }
    }

    fn visit_template_literal(&mut self, it: &TemplateLiteral<'a>) {
        if !self.in_fold
            && it.expressions.is_empty()
            && let Some(q) = it.quasis.first()
        {
            let s = q
                .value
                .cooked
                .as_ref()
                .map_or(q.value.raw.as_str(), |c| c.as_str());
            self.scan_string(&Val::str(s), it.span);
        }
        walk::walk_template_literal(self, it);
    }

    fn visit_identifier_reference(&mut self, it: &IdentifierReference<'a>) {
        self.check_ident_name(it.name.as_str(), it.span);
    }

    fn visit_binding_identifier(&mut self, it: &BindingIdentifier<'a>) {
        self.check_ident_name(it.name.as_str(), it.span);
    }

    fn visit_member_expression(&mut self, it: &MemberExpression<'a>) {
        if !self.in_target {
            let obj = self.env.eval(Env::member_object(it));
            if is_env_object(&obj) {
                let key = self.env.member_key(it, 0);
                match key.exact_str() {
                    Some(k) => {
                        let k = k.to_string();
                        self.env_read(&k, it.span());
                    }
                    None => self.emit(
                        BehaviourKind::EnvRead,
                        attrs(&["non-constant"]),
                        it.span(),
                        None,
                    ),
                }
            }
        }
        let saved = self.in_target;
        self.in_target = false;
        walk::walk_member_expression(self, it);
        self.in_target = saved;
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        self.on_call(&it.callee, &it.arguments, it.span, false);
        let saved = self.in_fold;
        self.in_fold = false;
        walk::walk_call_expression(self, it);
        self.in_fold = saved;
    }

    fn visit_new_expression(&mut self, it: &NewExpression<'a>) {
        self.on_call(&it.callee, &it.arguments, it.span, true);
        let saved = self.in_fold;
        self.in_fold = false;
        walk::walk_new_expression(self, it);
        self.in_fold = saved;
    }

    fn visit_tagged_template_expression(&mut self, it: &TaggedTemplateExpression<'a>) {
        if self.env.eval(&it.tag).as_ref_path() == Some("Bun.$") {
            let mut cmd = String::new();
            for (i, q) in it.quasi.quasis.iter().enumerate() {
                cmd.push_str(q.value.raw.as_str());
                if let Some(x) = it.quasi.expressions.get(i) {
                    match self.env.eval(x).as_str() {
                        Some(s) => cmd.push_str(s),
                        None => cmd.push_str(HOLE),
                    }
                }
            }
            let mut a = attrs(&["shell"]);
            if rules::command_suspicious(&cmd) {
                a.insert("suspicious-command".into());
            }
            if rules::command_system_info(&cmd) {
                self.emit(
                    BehaviourKind::SystemInfo,
                    BTreeSet::new(),
                    it.span,
                    Some(cmd.clone()),
                );
            }
            self.emit(BehaviourKind::ProcessSpawn, a, it.span, Some(cmd));
        }
        walk::walk_tagged_template_expression(self, it);
    }

    fn visit_import_expression(&mut self, it: &ImportExpression<'a>) {
        if let Expression::StringLiteral(s) = &it.source {
            self.on_module(s.value.as_str(), it.span);
        } else {
            let v = self.env.eval(&it.source);
            let mut a = BTreeSet::new();
            if v.is_decoded() {
                a.insert("decoded".to_string());
            }
            match &v {
                Val::Str { s, exact: true, .. } => {
                    let s = s.clone();
                    self.on_module(&s, it.span);
                    a.insert("computed".into());
                    self.emit(BehaviourKind::DynamicRequire, a, it.span, Some(s));
                }
                other => {
                    a.insert("non-constant".into());
                    let val = other
                        .as_str()
                        .map_or_else(|| "import()".to_string(), str::to_string);
                    self.emit(BehaviourKind::DynamicRequire, a, it.span, Some(val));
                }
            }
        }
        walk::walk_import_expression(self, it);
    }

    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        self.on_module(it.source.value.as_str(), it.span);
        walk::walk_import_declaration(self, it);
    }

    fn visit_export_all_declaration(&mut self, it: &ExportAllDeclaration<'a>) {
        self.on_module(it.source.value.as_str(), it.span);
        walk::walk_export_all_declaration(self, it);
    }

    fn visit_export_from_declaration(&mut self, it: &ExportFromDeclaration<'a>) {
        self.on_module(it.source.value.as_str(), it.span);
        walk::walk_export_from_declaration(self, it);
    }

    fn visit_assignment_expression(&mut self, it: &AssignmentExpression<'a>) {
        let target = match &it.left {
            AssignmentTarget::AssignmentTargetIdentifier(id) if self.env.is_global(id) => {
                Some(id.name.to_string())
            }
            other => other.as_member_expression().and_then(|m| {
                let obj = self.env.eval(Env::member_object(m));
                let full = self.env.member(&obj, &self.env.member_key(m, 0));
                match (full.as_ref_path(), obj.as_ref_path()) {
                    (Some(f), _) if is_monkey_target(f) => Some(f.to_string()),
                    (_, Some(o))
                        if !o.is_empty() && is_monkey_target(o) && !o.ends_with(".prototype") =>
                    {
                        Some(format!("{o}[…]"))
                    }
                    (_, Some(o))
                        if matches!(
                            o,
                            "Function.prototype"
                                | "Object.prototype"
                                | "Array.prototype"
                                | "String.prototype"
                        ) =>
                    {
                        Some(format!("{o}[…]"))
                    }
                    _ => None,
                }
            }),
        };
        if let Some(t) = target
            && is_monkey_target(&t.replace("[…]", ".x"))
        {
            self.emit(
                BehaviourKind::MonkeyPatch,
                BTreeSet::new(),
                it.span,
                Some(t),
            );
        }
        self.in_target = true;
        self.visit_assignment_target(&it.left);
        self.in_target = false;
        self.visit_expression(&it.right);
    }

    fn visit_unary_expression(&mut self, it: &UnaryExpression<'a>) {
        if it.operator == UnaryOperator::Delete
            && let Some(m) = it.argument.as_member_expression()
            && let Some(o) = self.env.eval(Env::member_object(m)).as_ref_path()
            && (o == "require.cache" || o == "mod:module._cache")
        {
            self.emit(
                BehaviourKind::MonkeyPatch,
                BTreeSet::new(),
                it.span,
                Some(format!("delete {o}[…]")),
            );
        }
        walk::walk_unary_expression(self, it);
    }

    fn visit_for_in_statement(&mut self, it: &ForInStatement<'a>) {
        if is_env_object(&self.env.eval(&it.right)) {
            self.emit(
                BehaviourKind::EnvSerialize,
                BTreeSet::new(),
                it.span,
                Some("for-in".into()),
            );
        }
        walk::walk_for_in_statement(self, it);
    }

    fn visit_spread_element(&mut self, it: &SpreadElement<'a>) {
        if is_env_object(&self.env.eval(&it.argument)) {
            self.emit(
                BehaviourKind::EnvSerialize,
                BTreeSet::new(),
                it.span,
                Some("spread".into()),
            );
        }
        walk::walk_spread_element(self, it);
    }

    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        if let (BindingPattern::ObjectPattern(o), Some(init)) = (&it.id, &it.init)
            && is_env_object(&self.env.eval(init))
        {
            for p in &o.properties {
                match p.key.static_name() {
                    Some(k) => {
                        let k = k.to_string();
                        self.env_read(&k, p.span);
                    }
                    None => self.emit(
                        BehaviourKind::EnvRead,
                        attrs(&["non-constant"]),
                        p.span,
                        None,
                    ),
                }
            }
            if o.rest.is_some() {
                self.emit(
                    BehaviourKind::EnvSerialize,
                    BTreeSet::new(),
                    it.span,
                    Some("rest".into()),
                );
            }
        }
        walk::walk_variable_declarator(self, it);
    }
}
