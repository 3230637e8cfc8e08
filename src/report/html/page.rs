//! The page every HTML report is built on: facts, inline SVG bar charts, sections and
//! sortable, filterable tables over the rows of a report's JSON model, in one file with its
//! CSS and script inline (no network, no external assets).

use super::escape::{html, push, script_json};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;
use std::io::Write;

/// How a column sorts in the page's script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// As text, case-insensitive.
    Text,
    /// As a number (the cell's `data-v`, or its text).
    Num,
}

/// What a cell shows of its row.
#[derive(Clone, Copy)]
pub enum Get {
    /// A field of the row by JSON pointer (`/relative_path`, `/restore/summary`), shown as
    /// [`cell_text`] shows it.
    Ptr(&'static str),
    /// Made from the row (e.g. a location object in words).
    With(fn(&Value) -> String),
}

/// One column of a table.
#[derive(Clone, Copy)]
pub struct Column {
    /// Stable key: the cells' `data-key`, and the name `#sort=KEY` takes.
    pub key: &'static str,
    pub header: &'static str,
    pub sort: Sort,
    pub get: Get,
    /// Shown as a coloured badge (severity, status words).
    pub badge: bool,
}

/// A text column reading `ptr`.
pub const fn text(key: &'static str, header: &'static str, ptr: &'static str) -> Column {
    Column {
        key,
        header,
        sort: Sort::Text,
        get: Get::Ptr(ptr),
        badge: false,
    }
}

/// A number column reading `ptr`.
pub const fn num(key: &'static str, header: &'static str, ptr: &'static str) -> Column {
    Column {
        sort: Sort::Num,
        ..text(key, header, ptr)
    }
}

/// A badge column (severity, status) reading `ptr`.
pub const fn badge(key: &'static str, header: &'static str, ptr: &'static str) -> Column {
    Column {
        badge: true,
        ..text(key, header, ptr)
    }
}

/// A text column made by `f`.
pub const fn with(key: &'static str, header: &'static str, f: fn(&Value) -> String) -> Column {
    Column {
        key,
        header,
        sort: Sort::Text,
        get: Get::With(f),
        badge: false,
    }
}

/// A JSON value as a cell shows it: strings as they are, numbers in decimal, `yes`/`no`,
/// empty for null, arrays joined with `, `, objects as `key=value` pairs.
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(cell_text).collect::<Vec<_>>().join(", "),
        Value::Object(o) => o
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}={}", cell_text(v)))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The field at `ptr` of `v` as [`cell_text`] shows it (empty when absent).
pub fn at(v: &Value, ptr: &str) -> String {
    v.pointer(ptr).map(cell_text).unwrap_or_default()
}

/// What the script is told about a table.
#[derive(Serialize)]
struct TableMeta {
    id: String,
    source: String,
    columns: Vec<ColumnMeta>,
}

#[derive(Serialize)]
struct ColumnMeta {
    key: &'static str,
    sort: Sort,
}

/// What the page's script reads (as JSON in a `<script type="application/json">`).
#[derive(Serialize)]
struct PageData<'a> {
    report: &'a str,
    schema: &'a str,
    tables: &'a [TableMeta],
}

/// An HTML report being built: sections are appended in order, then [`Page::write`].
pub struct Page {
    title: String,
    report: &'static str,
    schema: String,
    subtitle: String,
    nav: Vec<(String, String)>,
    body: String,
    tables: Vec<TableMeta>,
    open: bool,
}

impl Page {
    /// A page for `report` (`scan`, `keychain`, …) of the model whose JSON is `model` (its
    /// `schema` and `tool` are named in the header); `subject` says what was audited.
    pub fn new(report: &'static str, model: &Value, subject: &str) -> Page {
        let tool = format!("{} {}", at(model, "/tool/name"), at(model, "/tool/version"));
        Page {
            title: format!("auditor {report}: {subject}"),
            report,
            schema: at(model, "/schema"),
            subtitle: format!("{}, by {tool}", at(model, "/schema")),
            nav: Vec::new(),
            body: String::new(),
            tables: Vec::new(),
            open: false,
        }
    }

    /// Start a section (closing the one open); it is listed in the page's contents.
    pub fn section(&mut self, id: &str, heading: &str, note: Option<&str>) {
        self.close();
        let id = format!("s{}-{}", self.nav.len() + 1, slug(id));
        self.nav.push((id.clone(), heading.to_string()));
        let _ = write!(self.body, "<section id=\"{}\"><h2>", html(&id));
        push(&mut self.body, heading);
        self.body.push_str("</h2>\n");
        if let Some(n) = note {
            self.para(n);
        }
        self.open = true;
    }

    fn close(&mut self) {
        if self.open {
            self.body.push_str("</section>\n");
            self.open = false;
        }
    }

    /// A paragraph of text.
    pub fn para(&mut self, text: &str) {
        self.body.push_str("<p>");
        push(&mut self.body, text);
        self.body.push_str("</p>\n");
    }

    /// A list of warnings or notes (nothing when empty).
    pub fn list(&mut self, class: &str, items: &[String]) {
        if items.is_empty() {
            return;
        }
        let _ = write!(self.body, "<ul class=\"{}\">", html(class));
        for i in items {
            self.body.push_str("<li>");
            push(&mut self.body, i);
            self.body.push_str("</li>");
        }
        self.body.push_str("</ul>\n");
    }

    /// A block of facts (`label: value`); empty values are left out.
    pub fn facts(&mut self, heading: &str, facts: &[(&str, String)]) {
        self.body.push_str("<div class=\"facts\"><h3>");
        push(&mut self.body, heading);
        self.body.push_str("</h3><dl>");
        for (k, v) in facts.iter().filter(|(_, v)| !v.is_empty()) {
            self.body.push_str("<dt>");
            push(&mut self.body, k);
            self.body.push_str("</dt><dd>");
            push(&mut self.body, v);
            self.body.push_str("</dd>");
        }
        self.body.push_str("</dl></div>\n");
    }

    /// Start a row of blocks (facts, charts) side by side; [`Page::end_row`] ends it.
    pub fn row(&mut self) {
        self.body.push_str("<div class=\"row\">\n");
    }

    pub fn end_row(&mut self) {
        self.body.push_str("</div>\n");
    }

    /// A small horizontal bar chart (inline SVG) of `bars` (label, count); "none" when empty.
    pub fn chart(&mut self, heading: &str, bars: &[(String, u64)]) {
        const W: u32 = 440;
        const LABEL: u32 = 230;
        const BAR: u32 = 150;
        const H: u32 = 20;
        self.body.push_str("<div class=\"chart\"><h3>");
        push(&mut self.body, heading);
        self.body.push_str("</h3>");
        if bars.is_empty() {
            self.body.push_str("<p class=\"muted\">none</p></div>\n");
            return;
        }
        let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
        let height = H * bars.len() as u32;
        let _ = write!(
            self.body,
            "<svg class=\"bars\" role=\"img\" width=\"{W}\" height=\"{height}\" \
             viewBox=\"0 0 {W} {height}\"><title>"
        );
        push(&mut self.body, heading);
        self.body.push_str("</title>");
        for (i, (label, n)) in bars.iter().enumerate() {
            let y = H * i as u32;
            let w = ((*n as f64 / max as f64) * BAR as f64).round().max(1.0) as u32;
            let _ = write!(
                self.body,
                "<g data-label=\"{}\" data-count=\"{n}\"><text x=\"{}\" y=\"{}\" \
                 text-anchor=\"end\">",
                html(label),
                LABEL - 6,
                y + 14
            );
            push(&mut self.body, &shorten(label, 32));
            let _ = write!(
                self.body,
                "</text><rect x=\"{LABEL}\" y=\"{}\" width=\"{w}\" height=\"{}\" rx=\"2\"/>\
                 <text x=\"{}\" y=\"{}\">{n}</text></g>",
                y + 3,
                H - 6,
                LABEL + w + 5,
                y + 14
            );
        }
        self.body.push_str("</svg></div>\n");
    }

    /// A table of `rows`, each the JSON object at `source`/index of the report's JSON (e.g.
    /// `/files` with the rows' indexes in that array), so that every row can be traced to
    /// the JSON document. `rows` gives each row's index and value.
    pub fn table<'v>(
        &mut self,
        caption: &str,
        source: &str,
        columns: &[Column],
        rows: impl IntoIterator<Item = (usize, &'v Value)>,
    ) {
        let id = format!("t-{}", self.tables.len() + 1);
        let rows: Vec<(usize, &Value)> = rows.into_iter().collect();
        let _ = write!(
            self.body,
            "<div class=\"tbl\"><table id=\"{id}\" data-source=\"{}\" data-rows=\"{}\">\
             <caption>",
            html(source),
            rows.len()
        );
        push(&mut self.body, caption);
        self.body.push_str("</caption><thead><tr>");
        for c in columns {
            // The JSON field a cell shows, so that a reader (or a test) can trace it back.
            if let Get::Ptr(ptr) = c.get {
                let _ = write!(self.body, "<th data-field=\"{}\"", html(ptr));
            } else {
                self.body.push_str("<th");
            }
            let _ = write!(
                self.body,
                " data-key=\"{}\" data-sort=\"{}\" aria-sort=\"none\" \
                 class=\"{}\"><button type=\"button\">",
                c.key,
                match c.sort {
                    Sort::Text => "text",
                    Sort::Num => "num",
                },
                match c.sort {
                    Sort::Text => "t",
                    Sort::Num => "n",
                }
            );
            push(&mut self.body, c.header);
            self.body.push_str("</button></th>");
        }
        self.body.push_str("</tr></thead>\n<tbody>\n");
        for (i, row) in &rows {
            let _ = write!(self.body, "<tr data-index=\"{i}\">");
            for c in columns {
                let (text, raw) = match c.get {
                    Get::Ptr(p) => (at(row, p), row.pointer(p)),
                    Get::With(f) => (f(row), None),
                };
                let _ = write!(self.body, "<td data-key=\"{}\"", c.key);
                if let (Sort::Num, Some(Value::Number(n))) = (c.sort, raw) {
                    let _ = write!(self.body, " data-v=\"{n}\" class=\"n\"");
                }
                self.body.push('>');
                if c.badge && !text.is_empty() {
                    let _ = write!(self.body, "<span class=\"b b-{}\">", slug(&text));
                    push(&mut self.body, &text);
                    self.body.push_str("</span>");
                } else {
                    push(&mut self.body, &text);
                }
                self.body.push_str("</td>");
            }
            self.body.push_str("</tr>\n");
        }
        let n = rows.len();
        let _ = writeln!(
            self.body,
            "</tbody></table><p class=\"count\" data-for=\"{id}\">{n} row{}</p></div>",
            if n == 1 { "" } else { "s" }
        );
        self.tables.push(TableMeta {
            id,
            source: source.to_string(),
            columns: columns
                .iter()
                .map(|c| ColumnMeta {
                    key: c.key,
                    sort: c.sort,
                })
                .collect(),
        });
    }

    /// The whole document: head with inline CSS, header, contents, body, data and script.
    pub fn write(mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.close();
        let data = script_json(&PageData {
            report: self.report,
            schema: &self.schema,
            tables: &self.tables,
        })
        .map_err(std::io::Error::other)?;
        let mut head = String::with_capacity(8192);
        head.push_str(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n<title>",
        );
        push(&mut head, &self.title);
        head.push_str("</title>\n<style>");
        head.push_str(CSS);
        head.push_str("</style></head>\n<body>\n<header><h1>");
        push(&mut head, &self.title);
        head.push_str("</h1><p class=\"muted\">");
        push(&mut head, &self.subtitle);
        head.push_str(
            "</p><p class=\"tools\"><label>Filter rows <input id=\"filter\" type=\"search\" \
             placeholder=\"text in any cell\" autocomplete=\"off\"></label> \
             <span class=\"muted\">click a column header to sort</span></p>",
        );
        if self.nav.len() > 1 {
            head.push_str("<nav><ul>");
            for (id, h) in &self.nav {
                let _ = write!(head, "<li><a href=\"#{}\">", html(id));
                push(&mut head, h);
                head.push_str("</a></li>");
            }
            head.push_str("</ul></nav>");
        }
        head.push_str("</header>\n<main>\n");
        out.write_all(head.as_bytes())?;
        out.write_all(self.body.as_bytes())?;
        write!(
            out,
            "</main>\n<script type=\"application/json\" id=\"auditor-data\">{data}</script>\n\
             <script>{SCRIPT}</script>\n</body></html>\n"
        )
    }
}

/// `s` cut to `n` characters with `…`.
fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}

/// `s` as a class or id fragment: ASCII letters and digits, the rest as `-`.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

const CSS: &str = r#"
:root{--fg:#1b1f24;--muted:#5c6670;--bg:#fff;--panel:#f5f7f9;--line:#d8dee4;--bar:#3b6fb6;
--high:#b42318;--medium:#b54708;--low:#1d6fb8;--info:#5c6670;--ok:#137333}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--muted:#9aa4ae;--bg:#14171a;
--panel:#1d2126;--line:#343a41;--bar:#6d9ee0;--high:#f97066;--medium:#fdb022;--low:#84caff;
--info:#9aa4ae;--ok:#6ce9a6}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
header,main{max-width:1200px;margin:0 auto;padding:0 16px}
header{padding-top:16px;border-bottom:1px solid var(--line)}
h1{font-size:20px;margin:0 0 2px;word-break:break-all}
h2{font-size:17px;margin:24px 0 8px;padding-top:8px;border-top:1px solid var(--line);
word-break:break-all}
h3{font-size:13px;margin:0 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.muted{color:var(--muted)}
.tools input{font:inherit;padding:3px 6px;width:18em;border:1px solid var(--line);
border-radius:4px;background:var(--bg);color:var(--fg)}
nav ul{list-style:none;padding:0;margin:4px 0 12px;display:flex;flex-wrap:wrap;gap:4px 14px}
nav a{color:var(--bar)}
.row{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.facts,.chart{background:var(--panel);border:1px solid var(--line);border-radius:6px;
padding:10px 12px;min-width:260px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0}
dt{color:var(--muted)}dd{margin:0;word-break:break-all}
svg.bars text{font-size:12px;fill:var(--fg)}svg.bars rect{fill:var(--bar)}
.tbl{overflow-x:auto;margin:8px 0 4px}
table{border-collapse:collapse;width:100%;font-size:13px}
caption{text-align:left;font-weight:600;padding:4px 0}
th{position:sticky;top:0;background:var(--panel);border-bottom:2px solid var(--line);
text-align:left;white-space:nowrap;padding:0}
th button{font:inherit;font-weight:600;color:inherit;background:none;border:0;
padding:5px 8px;cursor:pointer;width:100%;text-align:inherit}
th[aria-sort=ascending] button::after{content:" \25B2"}
th[aria-sort=descending] button::after{content:" \25BC"}
td{border-bottom:1px solid var(--line);padding:4px 8px;vertical-align:top;
word-break:break-word;max-width:420px}
td.n,th.n{text-align:right}
tr:hover td{background:var(--panel)}
.b{display:inline-block;padding:0 6px;border-radius:9px;border:1px solid currentColor;
font-size:12px}
.b-high,.b-fail,.b-error,.b-unprotected,.b-never{color:var(--high)}
.b-medium,.b-unknown,.b-same-device-only{color:var(--medium)}
.b-low{color:var(--low)}.b-info{color:var(--info)}
.b-pass,.b-protected,.b-any-device{color:var(--ok)}
.count{color:var(--muted);font-size:12px;margin:2px 0 0}
ul.warnings li{color:var(--medium)}
"#;

/// Sorting (click a header; `#sort=KEY` or `#sort=-KEY` in the address), filtering (the
/// box; `#filter=TEXT`), and `data-ready="ok"` on `<html>` once it ran without an error.
const SCRIPT: &str = r#"
(function () {
  'use strict';
  var root = document.documentElement;
  try {
    var cfg = JSON.parse(document.getElementById('auditor-data').textContent);
    var tables = cfg.tables.map(function (t) {
      return { el: document.getElementById(t.id), cols: t.columns };
    });
    var value = function (tr, i, sort) {
      var td = tr.cells[i];
      var v = td.getAttribute('data-v');
      if (v === null) { v = td.textContent; }
      if (sort === 'num') {
        var n = parseFloat(v);
        return isNaN(n) ? -Infinity : n;
      }
      return v.toLowerCase();
    };
    var sortTable = function (t, key, desc) {
      var i = -1;
      t.cols.forEach(function (c, j) { if (c.key === key) { i = j; } });
      if (i < 0) { return; }
      var sort = t.cols[i].sort;
      var body = t.el.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = value(a, i, sort), y = value(b, i, sort);
        var r = x < y ? -1 : (x > y ? 1 : 0);
        if (r === 0) { r = Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index')); return r; }
        return desc ? -r : r;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      Array.prototype.forEach.call(t.el.tHead.rows[0].cells, function (th, j) {
        th.setAttribute('aria-sort', j === i ? (desc ? 'descending' : 'ascending') : 'none');
      });
    };
    var filter = function (q) {
      q = q.trim().toLowerCase();
      tables.forEach(function (t) {
        var shown = 0, rows = t.el.tBodies[0].rows;
        Array.prototype.forEach.call(rows, function (r) {
          var hit = !q || r.textContent.toLowerCase().indexOf(q) >= 0;
          r.hidden = !hit;
          if (hit) { shown += 1; }
        });
        var p = document.querySelector('p.count[data-for="' + t.el.id + '"]');
        if (p) {
          p.textContent = (q ? shown + ' of ' : '') + rows.length + (rows.length === 1 ? ' row' : ' rows');
        }
        t.el.setAttribute('data-shown', String(shown));
      });
    };
    tables.forEach(function (t) {
      Array.prototype.forEach.call(t.el.tHead.rows[0].cells, function (th) {
        th.querySelector('button').addEventListener('click', function () {
          var desc = th.getAttribute('aria-sort') === 'ascending';
          sortTable(t, th.getAttribute('data-key'), desc);
        });
      });
    });
    var box = document.getElementById('filter');
    box.addEventListener('input', function () { filter(box.value); });
    var hash = new URLSearchParams(location.hash.replace(/^#/, ''));
    var s = hash.get('sort');
    if (s) {
      var desc = s.charAt(0) === '-';
      tables.forEach(function (t) { sortTable(t, desc ? s.slice(1) : s, desc); });
    }
    var f = hash.get('filter');
    if (f !== null) { box.value = f; }
    filter(box.value);
    root.setAttribute('data-ready', 'ok');
  } catch (e) {
    root.setAttribute('data-ready', 'error: ' + e);
    throw e;
  }
})();
"#;
