//! The review page: one self-contained HTML file (inline style and script, no network, no
//! external assets; a Content-Security-Policy forbids any fetch), readable from `file://`.
//! Decisions first: the summary, the ranked behaviour changes (each linking to its hunk), the
//! signals, the modules whose code changed (collapsible `<details>`, syntax-highlighted when
//! opened), then what needs no decision (no semantic change, moves, unpaired entries), and the
//! exact `vetted certify ... --delta-from ... --review sha256:...` command that records the audit.
//!
//! Everything taken from the artifacts is HTML-escaped here; the page's script only re-escapes
//! text it highlights.
use super::delta::{Change, CodeStatus};
use super::render::{behaviour_kind_name, code_changed, pair_name, summary, truncate};
use super::{FileChange, ReviewReport};
use std::fmt::Write as _;

/// Longest line of code shown (longer ones are cut, with a mark).
const MAX_LINE_CHARS: usize = 2_000;

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root{--add:#e6ffec;--del:#ffebe9;--muted:#57606a;--border:#d0d7de}
body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1f2328}
header,main{max-width:1200px;margin:0 auto;padding:0 16px}
header{padding-top:16px}
h1{font-size:20px;margin:8px 0} h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid var(--border)}
table{border-collapse:collapse;width:100%;margin:8px 0} td,th{border:1px solid var(--border);padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa} code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
#summary{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 16px}
#summary li{margin:2px 0} .risk{font-weight:bold;text-align:right} .added{color:#116329} .removed{color:#82071e}
pre.cmd{background:#f6f8fa;border:1px solid var(--border);padding:8px;white-space:pre-wrap;word-break:break-all}
details.module{border:1px solid var(--border);border-radius:6px;margin:6px 0}
details.module>summary{cursor:pointer;padding:4px 8px;background:#f6f8fa}
details.module[open]>summary{border-bottom:1px solid var(--border)}
.diff{margin:0;overflow-x:auto;white-space:pre} .diff .l{display:block;padding:0 8px}
.diff .a{background:var(--add)} .diff .d{background:var(--del)} .diff .h{color:#0550ae;background:#ddf4ff}
.diff :target{outline:2px solid #d4a72c}
.tok-kw{color:#cf222e} .tok-str{color:#0a3069} .tok-num{color:#0550ae} .tok-com{color:#6e7781;font-style:italic}
.muted{color:var(--muted)} ul.paths{max-height:300px;overflow:auto}
"#;

const SCRIPT: &str = r#"
(function(){
var KW=/^(?:await|break|case|catch|class|const|continue|debugger|default|delete|do|else|export|extends|finally|for|function|if|import|in|instanceof|let|new|of|return|super|switch|this|throw|try|typeof|var|void|while|with|yield|async|from|as|null|true|false|undefined)$/;
var TOK=/(\/\/.*$|\/\*.*?\*\/)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)|(\b(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)n?\b)|([A-Za-z_$][\w$]*)/g;
function esc(s){return s.replace(/[&<>"']/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c];});}
function hl(el){
  var t=el.textContent,out='',last=0,m;TOK.lastIndex=0;
  while((m=TOK.exec(t))!==null){
    out+=esc(t.slice(last,m.index));last=m.index+m[0].length;
    var cls=m[1]?'tok-com':m[2]?'tok-str':m[3]?'tok-num':(m[4]&&KW.test(m[4]))?'tok-kw':'';
    out+=cls?'<span class="'+cls+'">'+esc(m[0])+'</span>':esc(m[0]);
    if(m[0].length===0){TOK.lastIndex++;}
  }
  el.innerHTML=out+esc(t.slice(last));
}
function highlight(d){
  if(d.dataset.highlighted||d.dataset.lang!=='javascript')return;
  d.dataset.highlighted='1';
  var ls=d.querySelectorAll('.c');for(var i=0;i<ls.length;i++)hl(ls[i]);
}
function openTarget(){
  var id=decodeURIComponent(location.hash.slice(1));if(!id)return;
  var el=document.getElementById(id);if(!el)return;
  for(var p=el;p;p=p.parentElement){if(p.tagName==='DETAILS'){p.open=true;highlight(p);}}
  el.scrollIntoView();
}
function visible(el){if(!el)return false;var r=el.getBoundingClientRect();var s=getComputedStyle(el);
  return r.width>0&&r.height>0&&s.visibility!=='hidden'&&s.display!=='none'&&r.top<window.innerHeight;}
document.addEventListener('toggle',function(e){if(e.target.tagName==='DETAILS'&&e.target.open)highlight(e.target);},true);
window.addEventListener('hashchange',openTarget);
document.addEventListener('DOMContentLoaded',function(){
  openTarget();
  var v=[];if(visible(document.getElementById('summary')))v.push('summary');
  if(visible(document.querySelector('#behaviour-changes tbody tr')))v.push('first-behaviour-change');
  document.body.dataset.visible=v.join(' ');
  var open=document.querySelectorAll('details.module[open]');document.body.dataset.openModules=String(open.length);
  document.body.dataset.ready='1';
});
})();
"#;

fn module_id(i: usize) -> String {
    format!("m{i}")
}

fn code_line(out: &mut String, cls: &str, line: &str) {
    let (mark, text) = line.split_at(line.chars().next().map_or(0, char::len_utf8));
    let text = if text.chars().count() > MAX_LINE_CHARS {
        format!(
            "{} … ({} more characters)",
            truncate(text, MAX_LINE_CHARS).trim_end_matches('…'),
            text.chars().count() - MAX_LINE_CHARS
        )
    } else {
        text.to_string()
    };
    let _ = write!(
        out,
        "<span class=\"l {cls}\">{}<span class=\"c\">{}</span></span>",
        esc(mark),
        esc(&text)
    );
}

fn module_section(out: &mut String, i: usize, c: &FileChange) {
    let Some(k) = &c.code else {
        return;
    };
    let lang = k.compared_as.unwrap_or("text");
    let _ = write!(
        out,
        "<details class=\"module\" id=\"{}\" data-lang=\"{}\"><summary><code>{}</code> <span class=\"muted\">{}</span></summary>",
        module_id(i),
        esc(lang),
        esc(&pair_name(c)),
        esc(&match k.status {
            CodeStatus::Changed => format!(
                "+{} −{} lines ({lang}{})",
                k.diff.added_lines,
                k.diff.removed_lines,
                if lang == "javascript" {
                    ", pretty-printed, minifier renames normalised"
                } else {
                    ""
                }
            ),
            s => s.name().to_string(),
        })
    );
    if let Some(n) = &k.note {
        let _ = write!(out, "<p class=\"muted\">{}</p>", esc(n));
    }
    out.push_str("<pre class=\"diff\">");
    for (j, h) in k.diff.hunks.iter().enumerate() {
        let _ = write!(
            out,
            "<span class=\"l h\" id=\"{}-h{j}\">{}</span>",
            module_id(i),
            esc(&h.header())
        );
        for l in &h.lines {
            let cls = match l.as_bytes().first() {
                Some(b'+') => "a",
                Some(b'-') => "d",
                _ => "",
            };
            code_line(out, cls, l);
        }
    }
    if k.diff.hunks_left_out > 0 {
        let _ = write!(
            out,
            "<span class=\"l muted\">… {} more hunk(s) not shown: vetted show --pretty</span>",
            k.diff.hunks_left_out
        );
    }
    out.push_str("</pre></details>\n");
}

fn path_list(out: &mut String, title: &str, paths: &[String]) {
    if paths.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<details><summary>{} ({})</summary><ul class=\"paths\">",
        esc(title),
        paths.len()
    );
    for p in paths {
        let _ = write!(out, "<li><code>{}</code></li>", esc(p));
    }
    out.push_str("</ul></details>\n");
}

/// Render the page. `certify` is the command that records the audit.
pub fn render(r: &ReviewReport, certify: &str) -> String {
    let mut out = String::with_capacity(1 << 20);
    let name = r.new.name.clone().or_else(|| r.old.name.clone());
    let ver = |s: &super::Side| s.version.clone().unwrap_or_else(|| s.label.clone());
    let title = match name {
        Some(n) => format!("{n} {} → {}", ver(&r.old), ver(&r.new)),
        None => format!("{} → {}", r.old.label, r.new.label),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>vetted review: {}</title><style>{STYLE}</style><script>{SCRIPT}</script></head><body>\n",
        esc(&title)
    );
    let _ = write!(out, "<header><h1>vetted review: {}</h1>", esc(&title));
    out.push_str("<table><tr><th></th><th>old</th><th>new</th></tr>");
    let _ = write!(
        out,
        "<tr><th>operand</th><td><code>{}</code></td><td><code>{}</code></td></tr>",
        esc(&r.old.label),
        esc(&r.new.label)
    );
    let _ = write!(
        out,
        "<tr><th>sha512</th><td><code>{}</code></td><td><code>{}</code></td></tr>",
        esc(&r.old.sha512.sri()),
        esc(&r.new.sha512.sri())
    );
    let _ = write!(
        out,
        "<tr><th>entries</th><td>{}</td><td>{}</td></tr></table></header>\n<main>",
        r.old.entries, r.new.entries
    );
    out.push_str("<section id=\"summary\"><h2>To decide</h2><ul>");
    if r.identical {
        out.push_str("<li>Identical: the artifacts are byte-for-byte the same.</li>");
    }
    for l in summary(r) {
        let _ = write!(out, "<li>{}</li>", esc(&l));
    }
    let _ = writeln!(
        out,
        "<li>Review digest (what this page shows): <code id=\"digest\">{}</code></li></ul></section>",
        esc(&r.digest().to_string())
    );

    // Module anchors: changed code, by index in report order.
    let changed: Vec<&FileChange> = code_changed(r).collect();
    let index_of = |path: &str| changed.iter().position(|c| c.new_path == path);

    // What the analysis could not read comes first: a behaviour list is only as complete as it.
    let gaps = &r.review.analysis_gaps;
    if !gaps.is_empty() {
        let _ = write!(
            out,
            "<section id=\"analysis-gaps\"><h2>Not fully analysed ({})</h2><p>The behaviour analysis could not read these in full: the behaviour changes below may miss what they do. Read them yourself.</p><table><thead><tr><th>module</th><th>why</th></tr></thead><tbody>",
            gaps.len()
        );
        for g in gaps {
            let module = match index_of(&g.path) {
                Some(i) => format!(
                    "<a href=\"#{}\"><code>{}</code></a>",
                    module_id(i),
                    esc(&g.path)
                ),
                None => format!("<code>{}</code>", esc(&g.path)),
            };
            let _ = write!(out, "<tr><td>{module}</td><td>{}</td></tr>", esc(&g.reason));
        }
        out.push_str("</tbody></table></section>\n");
    }

    let bc = &r.review.behaviour_changes;
    let _ = write!(out, "<section><h2>Behaviour changes ({})</h2>", bc.len());
    if bc.is_empty() {
        out.push_str("<p>None.</p>");
    } else {
        out.push_str("<table id=\"behaviour-changes\"><thead><tr><th>risk</th><th>change</th><th>kind</th><th>attributes</th><th>value</th><th>evidence</th><th>module</th></tr></thead><tbody>");
        for b in bc {
            let link = match (index_of(&b.path), b.hunk) {
                (Some(i), Some(h)) => format!("#{}-h{h}", module_id(i)),
                (Some(i), None) => format!("#{}", module_id(i)),
                _ => String::new(),
            };
            let module = if link.is_empty() {
                format!("<code>{}</code>", esc(&b.path))
            } else {
                format!(
                    "<a href=\"{}\"><code>{}</code></a>",
                    esc(&link),
                    esc(&b.path)
                )
            };
            let (cls, word) = match b.change {
                Change::Added => ("added", "added"),
                Change::Removed => ("removed", "removed"),
            };
            let _ = write!(
                out,
                "<tr><td class=\"risk\">{}</td><td class=\"{cls}\">{word}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td><code>{}</code> <span class=\"muted\">line {}, column {}</span></td><td>{module}</td></tr>",
                b.risk,
                esc(&behaviour_kind_name(b.behaviour.kind)),
                esc(&b
                    .behaviour
                    .attributes
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")),
                esc(&truncate(b.behaviour.value.as_deref().unwrap_or(""), 200)),
                esc(&truncate(&b.behaviour.snippet, 200)),
                b.behaviour.line,
                b.behaviour.column
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>\n");

    let _ = write!(out, "<section><h2>Signals ({})</h2>", r.signals.len());
    if !r.signals.is_empty() {
        out.push_str("<table id=\"signals\"><tr><th>signal</th><th>subject</th><th>details</th><th>files</th></tr>");
        for s in &r.signals {
            let mut details: Vec<String> = s.note.iter().cloned().collect();
            if let Some(o) = &s.old {
                details.push(format!("old: {o}"));
            }
            if let Some(n) = &s.new {
                details.push(format!("new: {n}"));
            }
            let files = if s.files.len() > 10 {
                format!(
                    "{} and {} more",
                    s.files[..10].join(", "),
                    s.files.len() - 10
                )
            } else {
                s.files.join(", ")
            };
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
                esc(s.kind.name()),
                esc(&truncate(&s.subject, 300)),
                esc(&details.join("; ")),
                esc(&files)
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>\n");

    let _ = write!(
        out,
        "<section id=\"changed\"><h2>Changed code ({})</h2><p class=\"muted\">JavaScript is pretty-printed with oxc_codegen on both sides and compared with the names a minifier chooses normalised; the lines shown are the code as written.</p>",
        changed.len()
    );
    for (i, c) in changed.iter().enumerate() {
        if c.code.is_some() {
            module_section(&mut out, i, c);
        } else {
            let _ = write!(
                out,
                "<p id=\"{}\"><code>{}</code> <span class=\"muted\">(code not compared)</span></p>",
                module_id(i),
                esc(&pair_name(c))
            );
        }
    }
    out.push_str("</section>\n<section><h2>No decision needed</h2>");
    let quiet: Vec<String> = r
        .files
        .changed
        .iter()
        .filter(|c| !changed.iter().any(|x| std::ptr::eq(*x, *c)))
        .map(pair_name)
        .collect();
    path_list(
        &mut out,
        "No semantic change (minifier renames, comments, compression)",
        &quiet,
    );
    let moved: Vec<String> = r
        .files
        .moved
        .iter()
        .map(|m| format!("{} -> {}", m.old_path, m.new_path))
        .collect();
    let _ = write!(
        out,
        "<p>{} moved entries (same bytes, new path).</p>",
        moved.len()
    );
    path_list(&mut out, "Moved", &moved);
    let added: Vec<String> = r.files.added.iter().map(|f| f.path.clone()).collect();
    let removed: Vec<String> = r.files.removed.iter().map(|f| f.path.clone()).collect();
    path_list(&mut out, "Unpaired, added", &added);
    path_list(&mut out, "Unpaired, removed", &removed);
    for n in &r.review.notes {
        let _ = write!(out, "<p class=\"muted\">note: {}</p>", esc(n));
    }
    let _ = write!(
        out,
        "</section>\n<section id=\"certify\"><h2>Record the audit</h2><p>After reviewing everything above, record it (the digest binds the audit to what this page shows):</p><pre class=\"cmd\">{}</pre></section>\n",
        esc(certify)
    );
    out.push_str("</main></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn script_in_module_code_is_escaped() {
        assert_eq!(
            esc("</script><img src=x onerror=alert(1)>\"'&"),
            "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"
        );
    }
}
