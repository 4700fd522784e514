//! JavaScript for the review, with the oxc crates: a similarity sketch over normalised tokens
//! (pairing), a canonical form that ignores what a minifier renames (to tell a re-minification
//! from a change), and both sides pretty-printed with `oxc_codegen` for the diff.
//!
//! The canonical form is the program printed by `oxc_codegen` after
//! - every symbol `oxc_semantic` resolves (bindings and their references) is renamed to `@@N`,
//!   N its declaration order; unresolved names (globals: `process`, `require`, `fetch`), property
//!   names, object keys, labels and literals are kept as written;
//! - comments are dropped;
//! - an exported name is replaced by its position among the module's exports, an imported name
//!   by its position among the exports of the module it comes from (so a chunk whose export
//!   names a minifier re-drew stays equal, while importing a different export does not);
//! - a string naming an embedded module (`/$bunfs/root/chunk-x.js`) is replaced by a
//!   placeholder whose target is compared through the pairing (the module it names must be the
//!   pair of the module named on the other side).
//!
//! Two modules whose canonical forms are equal (with equal placeholder targets) are the same
//! program up to a consistent renaming of its bindings: "no semantic change".
use oxc_allocator::Allocator;
use oxc_ast::ast::{
    ImportDeclarationSpecifier, ModuleExportName, Program, Statement, StringLiteral,
};
use oxc_codegen::{Codegen, CodegenOptions, CommentOptions};
use oxc_parser::{Kind, Parser, Token, config::TokensParserConfig};
use oxc_semantic::{Scoping, SemanticBuilder};
use oxc_span::SourceType;
use sha2::{Digest as _, Sha256};

/// Size of the bottom-k similarity sketch.
pub const SKETCH: usize = 64;
/// Tokens per shingle.
const SHINGLE: usize = 4;

/// The prefix of every name the canonical form introduces; never valid in JavaScript, so it
/// cannot collide with a name in the source.
const MARK: &str = "@@";

/// The prefixes the diff tries for its printing, in turn: the first that the code's own
/// printing (strings, regular expressions, templates) does not contain, so every occurrence of
/// it in the canonical printing is a name the printing introduced and can be renamed safely.
pub const MARKS: &[&str] = &["@@", "@@q", "@@qz", "@@qzx"];

/// Whether a path is JavaScript the review parses.
pub fn is_js(path: &str) -> bool {
    let p = path.strip_suffix(".zst").unwrap_or(path);
    [".js", ".mjs", ".cjs", ".jsx"]
        .iter()
        .any(|e| p.ends_with(e))
}

fn source_type(path: &str) -> SourceType {
    let p = path.strip_suffix(".zst").unwrap_or(path);
    if p.ends_with(".cjs") {
        SourceType::cjs()
    } else if p.ends_with(".mjs") {
        SourceType::mjs()
    } else if p.ends_with(".jsx") {
        SourceType::jsx()
    } else {
        // `.js` is a module when it has module syntax (Bun chunks), a script otherwise.
        SourceType::unambiguous()
    }
}

fn mix(mut z: u64) -> u64 {
    // splitmix64 finaliser.
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn hash_bytes(b: &[u8]) -> u64 {
    // FNV-1a, then mixed: stable across runs and platforms (the sketch is part of no output,
    // but pairing must be deterministic).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// The bottom-k sketch of a sequence of token hashes: the [`SKETCH`] smallest distinct shingle
/// hashes, sorted.
pub fn sketch(tokens: &[u64]) -> Vec<u64> {
    let mut set: Vec<u64> = if tokens.len() < SHINGLE {
        vec![tokens.iter().fold(0x51u64, |a, &t| mix(a ^ t))]
    } else {
        tokens
            .windows(SHINGLE)
            .map(|w| w.iter().fold(0x51u64, |a, &t| mix(a ^ t)))
            .collect()
    };
    bottom_k(&mut set, SKETCH)
}

/// The `k` smallest distinct values of `set`, sorted, in a vector of their own size (the
/// shingles of a big module number millions: sorting them all, or keeping their vector's
/// capacity in the facts, cost seconds and hundreds of MiB on a native build's delta).
fn bottom_k(set: &mut [u64], k: usize) -> Vec<u64> {
    let mut cut = (4 * k).max(1).min(set.len());
    loop {
        if cut < set.len() {
            // The `cut` smallest values to the front, in no order; every value below the one at
            // `cut - 1` is among them, so their k smallest distinct values are the set's when
            // they hold k distinct values.
            set.select_nth_unstable(cut - 1);
        }
        let mut head = set[..cut].to_vec();
        head.sort_unstable();
        head.dedup();
        if head.len() >= k || cut == set.len() {
            head.truncate(k);
            head.shrink_to_fit();
            return head;
        }
        cut = (cut * 4).min(set.len());
    }
}

/// Estimated Jaccard similarity of two sets from their bottom-k sketches.
pub fn similarity(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut taken, mut both) = (0, 0, 0usize, 0usize);
    while taken < SKETCH && (i < a.len() || j < b.len()) {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                both += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), Some(_)) => j += 1,
            // One sketch is exhausted: it holds every element of its set, so the rest of the
            // other's elements are not shared.
            (Some(_), None) => i += 1,
            (None, Some(_)) => j += 1,
            (None, None) => break,
        }
        taken += 1;
    }
    both as f64 / taken.max(1) as f64
}

/// Token hashes of plain text (words), for pairing text files and resources.
pub fn text_tokens(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(|w| hash_bytes(w.as_bytes()))
        .collect()
}

/// What one pass over a JavaScript module yields (kept in the inspection cache,
/// `docs/inspection-cache.md`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct JsFacts {
    /// Similarity sketch over normalised tokens (identifiers not in property position are one
    /// class; property names, keywords, punctuators and literals kept; embedded module names
    /// one class).
    pub sketch: Vec<u64>,
    /// SHA-256 of the canonical form (see the module doc).
    pub canonical: [u8; 32],
    /// The embedded module names the canonical form replaced, in order, as positions in
    /// `names` (a chunk names the same module hundreds of times: each name is held once).
    pub specs: Vec<u32>,
    /// The imported names the canonical form replaced, in order: (module specifier as a
    /// position in `names`, imported name).
    pub imports: Vec<(u32, String)>,
    /// The module specifiers named, each once.
    pub names: Vec<Box<str>>,
    /// The module's exported names, in source order.
    pub exports: Vec<String>,
    /// Why the module could not be parsed (then only the sketch is set, over its text).
    pub error: Option<String>,
}

/// Replace embedded-module names in printed code: every quoted string starting with
/// `/$bunfs/` is passed to `f`, which returns its replacement text (without quotes).
fn replace_specs(code: &str, f: &mut dyn FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(i) = rest.find("/$bunfs/") {
        let q = rest[..i].chars().last();
        if !matches!(q, Some('"' | '\'' | '`')) {
            out.push_str(&rest[..i + 1]);
            rest = &rest[i + 1..];
            continue;
        }
        let quote = q.unwrap_or('"');
        let Some(end) = rest[i..].find(quote) else {
            break;
        };
        let name = &rest[i..i + end];
        if name.contains(['\\', '\n']) {
            out.push_str(&rest[..i + 1]);
            rest = &rest[i + 1..];
            continue;
        }
        out.push_str(&rest[..i]);
        out.push_str(&f(name));
        rest = &rest[i + end..];
    }
    out.push_str(rest);
    out
}

/// The module's exported names, in source order (from the parser's module record).
pub(crate) fn exports_of(mr: &oxc_syntax::module_record::ModuleRecord<'_>) -> Vec<String> {
    use oxc_syntax::module_record::ExportExportName;
    let mut named: Vec<(u32, String)> = mr
        .local_export_entries
        .iter()
        .chain(mr.indirect_export_entries.iter())
        .chain(mr.star_export_entries.iter())
        .filter_map(|e| match &e.export_name {
            ExportExportName::Name(n) => Some((n.span.start, n.name.to_string())),
            ExportExportName::Default(s) => Some((s.start, "default".to_string())),
            _ => None,
        })
        .collect();
    named.sort();
    named.into_iter().map(|(_, n)| n).collect()
}

fn set_name<'a>(alloc: &'a Allocator, n: &mut ModuleExportName<'a>, new: &str) {
    let s = alloc.alloc_str(new);
    match n {
        ModuleExportName::IdentifierName(id) => id.name = s.into(),
        ModuleExportName::IdentifierReference(id) => id.name = s.into(),
        ModuleExportName::StringLiteral(StringLiteral { value, raw, .. }) => {
            *value = s.into();
            *raw = None;
        }
    }
}

fn export_name(n: &ModuleExportName<'_>) -> String {
    match n {
        ModuleExportName::IdentifierName(id) => id.name.to_string(),
        ModuleExportName::IdentifierReference(id) => id.name.to_string(),
        ModuleExportName::StringLiteral(s) => s.value.to_string(),
    }
}

/// Rewrite the names that cross module boundaries: exported names become `@@E<position>`,
/// imported names become what `import` returns for (specifier, name).
fn rewrite_module_names<'a>(
    alloc: &'a Allocator,
    program: &mut Program<'a>,
    exports: &[String],
    import: &mut dyn FnMut(&str, &str) -> String,
    raw_exports: bool,
    mark: &str,
) {
    let position = |name: &str| {
        exports
            .iter()
            .position(|e| e == name)
            .map_or_else(|| format!("{mark}E?{name}"), |i| format!("{mark}E{i}"))
    };
    for stmt in program.body.iter_mut() {
        match stmt {
            Statement::ImportDeclaration(d) => {
                let spec = d.source.value.to_string();
                if let Some(specs) = d.specifiers.as_mut() {
                    for s in specs.iter_mut() {
                        if let ImportDeclarationSpecifier::ImportSpecifier(s) = s {
                            let name = export_name(&s.imported);
                            let new = import(&spec, &name);
                            set_name(alloc, &mut s.imported, &new);
                        }
                    }
                }
            }
            Statement::ExportNamedDeclaration(d) if !raw_exports => {
                for s in d.specifiers.iter_mut() {
                    let new = position(&export_name(&s.exported));
                    set_name(alloc, &mut s.exported, &new);
                }
            }
            Statement::ExportFromDeclaration(d) => {
                let spec = d.source.value.to_string();
                for s in d.specifiers.iter_mut() {
                    let name = export_name(&s.local);
                    let new = import(&spec, &name);
                    set_name(alloc, &mut s.local, &new);
                    if !raw_exports {
                        let new = position(&export_name(&s.exported));
                        set_name(alloc, &mut s.exported, &new);
                    }
                }
            }
            Statement::ExportAllDeclaration(d) if !raw_exports => {
                if let Some(e) = d.exported.as_mut() {
                    let new = position(&export_name(e));
                    set_name(alloc, e, &new);
                }
            }
            _ => {}
        }
    }
}

fn codegen_options(minify: bool) -> CodegenOptions {
    CodegenOptions {
        minify,
        comments: CommentOptions::disabled(),
        ..CodegenOptions::default()
    }
}

/// The module's own exports: (exported name, name of the local binding it exports), for
/// `export { a as b }`, `export function f`, `export const x`, `export class C` and
/// `export default` of a named declaration or an identifier. Re-exports are left out.
fn export_locals(program: &Program<'_>) -> Vec<(String, String)> {
    use oxc_ast::ast::{BindingPattern, Declaration, ExportDefaultDeclarationKind};
    let mut out = Vec::new();
    for stmt in &program.body {
        match stmt {
            Statement::ExportNamedDeclaration(d) => {
                for s in &d.specifiers {
                    if let ModuleExportName::IdentifierReference(id) = &s.local {
                        out.push((export_name(&s.exported), id.name.to_string()));
                    }
                }
            }
            Statement::ExportDeclaration(d) => match &d.declaration {
                Declaration::FunctionDeclaration(f) => {
                    if let Some(id) = &f.id {
                        out.push((id.name.to_string(), id.name.to_string()));
                    }
                }
                Declaration::ClassDeclaration(c) => {
                    if let Some(id) = &c.id {
                        out.push((id.name.to_string(), id.name.to_string()));
                    }
                }
                Declaration::VariableDeclaration(v) => {
                    for d in &v.declarations {
                        if let BindingPattern::BindingIdentifier(id) = &d.id {
                            out.push((id.name.to_string(), id.name.to_string()));
                        }
                    }
                }
                _ => {}
            },
            Statement::ExportDefaultDeclaration(d) => {
                let local = match &d.declaration {
                    ExportDefaultDeclarationKind::FunctionDeclaration(f) => {
                        f.id.as_ref().map(|i| i.name.to_string())
                    }
                    ExportDefaultDeclarationKind::ClassDeclaration(c) => {
                        c.id.as_ref().map(|i| i.name.to_string())
                    }
                    ExportDefaultDeclarationKind::Identifier(i) => Some(i.name.to_string()),
                    _ => None,
                };
                if let Some(l) = local {
                    out.push(("default".to_string(), l));
                }
            }
            _ => {}
        }
    }
    out
}

/// How [`canonical_code`] prints: minified (for the digest) or not (for the diff), export names
/// as written or by position, and the prefix of the names it introduces.
struct Canon<'m> {
    minify: bool,
    raw_exports: bool,
    mark: &'m str,
}

/// Print `program` canonically: module names rewritten, symbols renamed to `@@N`. Also
/// returns the module's own exports with the number of the binding each exports.
fn canonical_code<'a>(
    alloc: &'a Allocator,
    program: &mut Program<'a>,
    exports: &[String],
    import: &mut dyn FnMut(&str, &str) -> String,
    Canon {
        minify,
        raw_exports,
        mark,
    }: Canon<'_>,
    scoping: Option<Scoping>,
) -> (String, Vec<(String, u32)>) {
    let locals = export_locals(program);
    rewrite_module_names(alloc, program, exports, import, raw_exports, mark);
    // A scoping built before the rewrite is the same one: the rewrite changes only imported
    // and exported names (`ModuleExportName`), which are neither bindings nor references.
    let mut scoping = scoping.unwrap_or_else(|| {
        SemanticBuilder::new()
            .build(program)
            .semantic
            .into_scoping()
    });
    let exported: Vec<(String, u32)> = locals
        .into_iter()
        .filter_map(|(e, l)| {
            let id = scoping.get_root_binding(l.as_str().into())?;
            Some((e, u32::try_from(id.index()).ok()?))
        })
        .collect();
    let ids: Vec<_> = scoping.symbol_ids().collect();
    for (i, id) in ids.into_iter().enumerate() {
        let name = format!("{mark}{i}");
        scoping.set_symbol_name(id, name.as_str().into());
    }
    let code = Codegen::new()
        .with_options(codegen_options(minify))
        .with_scoping(Some(scoping))
        .build(program)
        .code;
    (code, exported)
}

fn parse_error(ret: &oxc_parser::ParserReturn<'_>) -> Option<String> {
    if ret.panicked || !ret.diagnostics.is_empty() {
        Some(
            ret.diagnostics
                .first()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "the parser stopped".into()),
        )
    } else {
        None
    }
}

/// Analyse one module: its sketch, canonical digest, and the names that cross modules.
pub fn analyse(path: &str, src: &str) -> JsFacts {
    let alloc = Allocator::default();
    let ret = match crate::content::js::too_nested(src) {
        Some(why) => Err(why),
        None => Ok(Parser::new(&alloc, src, source_type(path))
            .with_config(TokensParserConfig)
            .parse()),
    };
    let ret = ret.and_then(|r| match parse_error(&r) {
        Some(e) => Err(e),
        None => Ok(r),
    });
    let ret = match ret {
        Ok(r) => r,
        Err(e) => {
            let tokens = text_tokens(src);
            return JsFacts {
                sketch: sketch(&tokens),
                canonical: Sha256::digest(src.as_bytes()).into(),
                error: Some(e),
                ..JsFacts::default()
            };
        }
    };
    let exports = exports_of(&ret.module_record);
    from_parsed(&alloc, src, ret.program, &ret.tokens, exports, None)
}

/// [`analyse`] of a module already parsed without error, with its tokens (the behaviour
/// analysis parses each module once and hands its AST here, with the scoping it built, when
/// a review wants the facts). `exports` are [`exports_of`] its module record.
pub(crate) fn from_parsed<'a>(
    alloc: &'a Allocator,
    src: &str,
    mut program: Program<'a>,
    tokens: &[Token],
    exports: Vec<String>,
    scoping: Option<Scoping>,
) -> JsFacts {
    let mut hashes = Vec::with_capacity(tokens.len());
    let mut prev = Kind::Eof;
    for t in tokens {
        let kind = t.kind();
        let text = src.get(t.start() as usize..t.end() as usize).unwrap_or("");
        let h = if kind == Kind::Ident {
            if matches!(prev, Kind::Dot | Kind::QuestionDot) {
                hash_bytes(text.as_bytes())
            } else {
                0x1d
            }
        } else if text.contains("/$bunfs/") {
            0x5c
        } else if kind.is_literal()
            || matches!(
                kind,
                Kind::NoSubstitutionTemplate
                    | Kind::TemplateHead
                    | Kind::TemplateMiddle
                    | Kind::TemplateTail
            )
        {
            hash_bytes(text.as_bytes())
        } else {
            kind as u64
        };
        hashes.push(h);
        prev = kind;
    }
    let mut imports = Vec::new();
    let mut names = super::pair::Names::default();
    let mut record = |spec: &str, name: &str| {
        imports.push((names.id(spec), name.to_string()));
        format!("{MARK}I{}", imports.len() - 1)
    };
    let (code, _) = canonical_code(
        alloc,
        &mut program,
        &exports,
        &mut record,
        Canon {
            minify: true,
            raw_exports: false,
            mark: MARK,
        },
        scoping,
    );
    let mut specs = Vec::new();
    let code = replace_specs(&code, &mut |s| {
        specs.push(names.id(s));
        format!("{MARK}M{}", specs.len() - 1)
    });
    JsFacts {
        sketch: sketch(&hashes),
        canonical: Sha256::digest(code.as_bytes()).into(),
        specs,
        imports,
        names: names.into_names(),
        exports,
        error: None,
    }
}

impl JsFacts {
    /// The embedded module names, in order.
    pub fn specs(&self) -> impl Iterator<Item = &str> + '_ {
        self.specs.iter().map(|&i| self.name(i))
    }

    /// The imports, in order: (module specifier, imported name).
    pub fn imports(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.imports
            .iter()
            .map(|(i, n)| (self.name(*i), n.as_str()))
    }

    /// The embedded module names, each once, in first-use order.
    pub fn spec_names(&self) -> Vec<&str> {
        let mut seen = vec![false; self.names.len()];
        self.specs
            .iter()
            .filter(|&&i| {
                seen.get_mut(i as usize)
                    .is_some_and(|s| !std::mem::replace(s, true))
            })
            .map(|&i| self.name(i))
            .collect()
    }

    fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", |s| s)
    }
}

/// Both printings of one module for the diff: `display` with the names as written, and
/// `normal` (the canonical form, pretty-printed), line for line the same code.
#[derive(Debug, Clone)]
pub struct Pretty {
    /// Pretty-printed with the original names.
    pub display: String,
    /// Pretty-printed canonically (what the diff compares).
    pub normal: String,
    /// The module's own exports: exported name and the number (`@@N`) of the binding it
    /// exports in `normal`.
    pub exports: Vec<(String, u32)>,
}

/// Pretty-print one module both ways. `spec` maps an embedded module name to the name the
/// comparison uses (the pair's name, for the old side); `import` names an imported export.
/// With `raw_exports`, exported names are printed as written (a module that kept its path can
/// be imported by modules that did not change, so its export names are part of what it does);
/// otherwise by position. `mark` prefixes the names the canonical printing introduces (see
/// [`MARKS`]).
pub fn pretty(
    path: &str,
    src: &str,
    spec: &mut dyn FnMut(&str) -> String,
    import: &mut dyn FnMut(&str, &str) -> String,
    raw_exports: bool,
    mark: &str,
) -> Result<Pretty, String> {
    if let Some(why) = crate::content::js::too_nested(src) {
        return Err(why);
    }
    let alloc = Allocator::default();
    let ret = Parser::new(&alloc, src, source_type(path)).parse();
    if let Some(e) = parse_error(&ret) {
        return Err(e);
    }
    let exports = exports_of(&ret.module_record);
    let mut program = ret.program;
    let display = Codegen::new()
        .with_options(codegen_options(false))
        .build(&program)
        .code;
    let (normal, exports) = canonical_code(
        &alloc,
        &mut program,
        &exports,
        import,
        Canon {
            minify: false,
            raw_exports,
            mark,
        },
        None,
    );
    let normal = replace_specs(&normal, spec);
    Ok(Pretty {
        display,
        normal,
        exports,
    })
}

/// Pretty-print one module with its own names (`vetted show --pretty`).
pub fn pretty_print(path: &str, src: &str) -> Result<String, String> {
    if let Some(why) = crate::content::js::too_nested(src) {
        return Err(why);
    }
    let alloc = Allocator::default();
    let ret = Parser::new(&alloc, src, source_type(path)).parse();
    if let Some(e) = parse_error(&ret) {
        return Err(e);
    }
    Ok(Codegen::new()
        .with_options(CodegenOptions::default())
        .build(&ret.program)
        .code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> bool {
        let (x, y) = (analyse("a.js", a), analyse("a.js", b));
        assert!(x.error.is_none() && y.error.is_none(), "{x:?} {y:?}");
        x.canonical == y.canonical
    }

    #[test]
    fn reminified_locals_are_equal() {
        assert!(same(
            "function kMi(n){return n.split('/').some(t=>t.includes(':'))}export{kMi};",
            "// Version: 2\nfunction q(z){return z.split('/').some(a=>a.includes(':'))}export{q};"
        ));
    }

    #[test]
    fn changed_object_key_is_a_change() {
        assert!(!same(
            "var o={detached:false};export{o}",
            "var o={shell:false};export{o}"
        ));
    }

    #[test]
    fn changed_global_is_a_change() {
        assert!(!same(
            "export function f(){return fetch}",
            "export function f(){return eval}"
        ));
    }

    #[test]
    fn changed_literal_is_a_change() {
        assert!(!same(
            "export const u='https://a.example'",
            "export const u='https://b.example'"
        ));
    }

    #[test]
    fn swapped_import_of_same_module_is_recorded() {
        let a = analyse("a.js", "import{x,y}from'/$bunfs/root/c.js';x()");
        let b = analyse("a.js", "import{p,q}from'/$bunfs/root/d.js';p()");
        assert_eq!(a.canonical, b.canonical);
        assert_eq!(a.specs().collect::<Vec<_>>(), vec!["/$bunfs/root/c.js"]);
        assert_eq!(b.specs().collect::<Vec<_>>(), vec!["/$bunfs/root/d.js"]);
        assert_eq!(a.imports().next(), Some(("/$bunfs/root/c.js", "x")));
        assert_eq!(b.imports().next(), Some(("/$bunfs/root/d.js", "p")));
    }

    #[test]
    fn bottom_k_is_the_k_smallest_distinct_values() {
        // Many duplicates of the small values: the first cut holds fewer than k distinct ones.
        let mut v: Vec<u64> = (0..1000u64).map(|i| i % 7).collect();
        v.extend((100..10_000u64).rev());
        let mut all = v.clone();
        all.sort_unstable();
        all.dedup();
        all.truncate(64);
        let got = bottom_k(&mut v, 64);
        assert_eq!(got, all);
        assert!(got.capacity() <= 64);
        assert_eq!(bottom_k(&mut [], 64), Vec::<u64>::new());
        assert_eq!(bottom_k(&mut [5, 5, 3], 64), vec![3, 5]);
    }

    #[test]
    fn sketch_ignores_renames_and_sees_edits() {
        let a = analyse("a.js", &"function f(a,b){return a.x+b.y*2}".repeat(20));
        let b = analyse("a.js", &"function g(c,d){return c.x+d.y*2}".repeat(20));
        let c = analyse(
            "a.js",
            &"while(1){console.log('other code',k.z)}".repeat(20),
        );
        assert!(similarity(&a.sketch, &b.sketch) > 0.99);
        assert!(similarity(&a.sketch, &c.sketch) < 0.2);
    }
}
