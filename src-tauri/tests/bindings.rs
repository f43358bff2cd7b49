//! TypeScript bindings for the types that cross into the window, generated from the Rust
//! sources with `syn` and serde's attributes (no derives needed in `callrec-types`), written to
//! `ui/src/api/bindings.ts`. The test fails when the committed file is stale; regenerate with
//! `CALLREC_UPDATE_BINDINGS=1 cargo test -p callrec-desktop --test desktop bindings`.
//!
//! Covered: structs with named fields (`rename`, `rename_all`, `flatten`, `skip`,
//! `skip_serializing_if`, `default`), newtypes and `#[serde(transparent)]`, the id macro of
//! `callrec-types`, and enums in all four serde representations.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use syn::{Attribute, Fields, Item, Type};

/// The files whose serde types the window sees, in output order.
const SOURCES: &[&str] = &[
    "crates/types/src/ids.rs",
    "crates/types/src/directory.rs",
    "crates/types/src/rules.rs",
    "crates/types/src/engine.rs",
    "crates/types/src/calls.rs",
    "crates/types/src/wire.rs",
    "src-tauri/error.rs",
    "src-tauri/settings.rs",
    "src-tauri/tokens.rs",
    "src-tauri/session.rs",
    "src-tauri/local_server.rs",
    "src-tauri/journal.rs",
    "src-tauri/player/mod.rs",
    "src-tauri/download.rs",
    "src-tauri/events.rs",
    "crates/client/src/admin.rs",
    "src-tauri/admin.rs",
];

const OUTPUT: &str = "ui/src/api/bindings.ts";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Default)]
struct Serde {
    rename: Option<String>,
    rename_all: Option<String>,
    tag: Option<String>,
    content: Option<String>,
    untagged: bool,
    transparent: bool,
    flatten: bool,
    skip: bool,
    skip_serializing_if: bool,
    default: bool,
}

fn serde_attrs(attrs: &[Attribute]) -> Serde {
    let mut s = Serde::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            let value = || -> syn::Result<String> { Ok(meta.value()?.parse::<syn::LitStr>()?.value()) };
            match key.as_str() {
                "rename" => s.rename = Some(value()?),
                "rename_all" => s.rename_all = Some(value()?),
                "tag" => s.tag = Some(value()?),
                "content" => s.content = Some(value()?),
                "untagged" => s.untagged = true,
                "transparent" => s.transparent = true,
                "flatten" => s.flatten = true,
                "skip" | "skip_serializing" => s.skip = true,
                "skip_serializing_if" => {
                    value()?;
                    s.skip_serializing_if = true;
                }
                "default" => {
                    s.default = true;
                    if meta.input.peek(syn::Token![=]) {
                        value()?;
                    }
                }
                _ => {
                    if meta.input.peek(syn::Token![=]) {
                        let _: syn::Expr = meta.value()?.parse()?;
                    }
                }
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("unreadable serde attribute: {e}"));
    }
    s
}

fn derives_serde(attrs: &[Attribute]) -> bool {
    attrs.iter().filter(|a| a.path().is_ident("derive")).any(|a| {
        let mut found = false;
        let _ = a.parse_nested_meta(|m| {
            let last = m.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            found |= last == "Serialize" || last == "Deserialize";
            Ok(())
        });
        found
    })
}

fn docs(attrs: &[Attribute], indent: &str) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s), ..
                }) => Some(s.value().trim().to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let mut out = format!("{indent}/**\n");
    for l in lines {
        if l.is_empty() {
            out.push_str(&format!("{indent} *\n"));
        } else {
            out.push_str(&format!("{indent} * {}\n", l.replace("*/", "*\\/")));
        }
    }
    out.push_str(&format!("{indent} */\n"));
    out
}

fn words(ident: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in ident.chars() {
        if c == '_' {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
        } else if c.is_uppercase() && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
            cur.push(c);
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words.into_iter().map(|w| w.to_lowercase()).collect()
}

fn rename(ident: &str, rule: Option<&str>) -> String {
    let w = words(ident);
    match rule {
        None => ident.to_string(),
        Some("snake_case") => w.join("_"),
        Some("kebab-case") => w.join("-"),
        Some("lowercase") => ident.to_lowercase(),
        Some("UPPERCASE") => ident.to_uppercase(),
        Some("SCREAMING_SNAKE_CASE") => w.join("_").to_uppercase(),
        Some("camelCase") => w
            .iter()
            .enumerate()
            .map(|(i, s)| if i == 0 { s.clone() } else { capitalise(s) })
            .collect(),
        Some("PascalCase") => w.iter().map(|s| capitalise(s)).collect(),
        Some(other) => panic!("rename_all = {other:?} is not supported by the generator"),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

struct Gen {
    out: String,
    defined: BTreeSet<String>,
    used: BTreeSet<String>,
}

impl Gen {
    fn ty(&mut self, ty: &Type) -> String {
        match ty {
            Type::Reference(r) => self.ty(&r.elem),
            Type::Paren(p) => self.ty(&p.elem),
            Type::Slice(s) => array(self.ty(&s.elem)),
            Type::Array(a) => array(self.ty(&a.elem)),
            Type::Tuple(t) if t.elems.is_empty() => "null".into(),
            Type::Tuple(t) => format!(
                "[{}]",
                t.elems.iter().map(|e| self.ty(e)).collect::<Vec<_>>().join(", ")
            ),
            Type::Path(p) => {
                let seg = p.path.segments.last().expect("a type path has a segment");
                let args: Vec<Type> = match &seg.arguments {
                    syn::PathArguments::AngleBracketed(a) => a
                        .args
                        .iter()
                        .filter_map(|g| match g {
                            syn::GenericArgument::Type(t) => Some(t.clone()),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let name = seg.ident.to_string();
                match name.as_str() {
                    "String" | "str" | "char" | "PathBuf" | "Path" | "DateTime" | "NaiveDate" => "string".into(),
                    "bool" => "boolean".into(),
                    "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" | "f32" | "f64" => {
                        "number".into()
                    }
                    "Value" => "unknown".into(),
                    "Option" => format!("{} | null", self.ty(&args[0])),
                    "Vec" | "VecDeque" | "BTreeSet" | "HashSet" => array(self.ty(&args[0])),
                    "Box" | "Arc" | "Rc" => self.ty(&args[0]),
                    "HashMap" | "BTreeMap" => format!("Record<string, {}>", self.ty(&args[1])),
                    _ => {
                        self.used.insert(name.clone());
                        name
                    }
                }
            }
            other => panic!("unsupported type in bindings: {}", quote::quote!(#other)),
        }
    }

    /// `{ a: T; b?: U }` for named fields, with flattened types as an intersection.
    fn object(
        &mut self,
        fields: &syn::FieldsNamed,
        rename_all: Option<&str>,
        leading: &[(String, String)],
        indent: &str,
    ) -> String {
        let mut members: Vec<String> = leading.iter().map(|(k, v)| format!("{indent}  {k}: {v};\n")).collect();
        let mut flattened = Vec::new();
        for f in &fields.named {
            let s = serde_attrs(&f.attrs);
            if s.skip {
                continue;
            }
            let ident = f.ident.as_ref().expect("named field").to_string();
            let ident = ident.trim_start_matches("r#");
            if s.flatten {
                flattened.push(self.ty(&f.ty));
                continue;
            }
            let name = s.rename.clone().unwrap_or_else(|| rename(ident, rename_all));
            let is_option =
                matches!(&f.ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Option"));
            let optional = s.skip_serializing_if || (s.default && is_option);
            let ty = self.ty(&f.ty);
            members.push(format!(
                "{}{indent}  {name}{}: {ty};\n",
                docs(&f.attrs, &format!("{indent}  ")),
                if optional { "?" } else { "" }
            ));
        }
        let object = format!("{{\n{}{indent}}}", members.concat());
        if flattened.is_empty() {
            object
        } else {
            flattened.push(object);
            flattened.join(" & ")
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Macro(m) if m.mac.path.is_ident("id_type") => {
                let ids: syn::punctuated::Punctuated<syn::Ident, syn::Token![,]> = m
                    .mac
                    .parse_body_with(syn::punctuated::Punctuated::parse_terminated)
                    .expect("id_type!(A, B, …) lists idents");
                for id in ids {
                    self.define(
                        &id.to_string(),
                        "/** A positive integer id. */\n",
                        &format!("export type {id} = number;\n"),
                    );
                }
            }
            Item::Struct(s) if derives_serde(&s.attrs) => {
                let attrs = serde_attrs(&s.attrs);
                let name = s.ident.to_string();
                let body = match &s.fields {
                    Fields::Named(named) if attrs.transparent => {
                        let f = named.named.first().expect("a transparent struct has one field");
                        format!("export type {name} = {};\n", self.ty(&f.ty))
                    }
                    Fields::Named(named) => {
                        format!(
                            "export type {name} = {};\n",
                            self.object(named, attrs.rename_all.as_deref(), &[], "")
                        )
                    }
                    Fields::Unnamed(u) if u.unnamed.len() == 1 => {
                        format!("export type {name} = {};\n", self.ty(&u.unnamed[0].ty))
                    }
                    Fields::Unnamed(u) => format!(
                        "export type {name} = [{}];\n",
                        u.unnamed.iter().map(|f| self.ty(&f.ty)).collect::<Vec<_>>().join(", ")
                    ),
                    Fields::Unit => format!("export type {name} = null;\n"),
                };
                self.define(&name, &docs(&s.attrs, ""), &body);
            }
            Item::Enum(e) if derives_serde(&e.attrs) => {
                let attrs = serde_attrs(&e.attrs);
                let name = e.ident.to_string();
                let mut arms = Vec::new();
                for v in &e.variants {
                    let vs = serde_attrs(&v.attrs);
                    if vs.skip {
                        continue;
                    }
                    let tag_value = vs
                        .rename
                        .clone()
                        .unwrap_or_else(|| rename(&v.ident.to_string(), attrs.rename_all.as_deref()));
                    let lit = format!("\"{tag_value}\"");
                    let arm = match (&attrs.tag, &attrs.content, attrs.untagged, &v.fields) {
                        (_, _, true, Fields::Unit) => "null".to_string(),
                        (_, _, true, Fields::Unnamed(u)) => self.ty(&u.unnamed[0].ty),
                        (_, _, true, Fields::Named(n)) => self.object(n, vs.rename_all.as_deref(), &[], "  "),
                        (Some(tag), _, _, Fields::Unit) => format!("{{ {tag}: {lit} }}"),
                        (Some(tag), Some(content), _, Fields::Unnamed(u)) => {
                            format!("{{ {tag}: {lit}; {content}: {} }}", self.ty(&u.unnamed[0].ty))
                        }
                        (Some(tag), Some(content), _, Fields::Named(n)) => format!(
                            "{{ {tag}: {lit}; {content}: {} }}",
                            self.object(n, vs.rename_all.as_deref(), &[], "  ")
                        ),
                        (Some(tag), None, _, Fields::Unnamed(u)) => {
                            format!("({{ {tag}: {lit} }} & {})", self.ty(&u.unnamed[0].ty))
                        }
                        (Some(tag), None, _, Fields::Named(n)) => {
                            self.object(n, vs.rename_all.as_deref(), &[(tag.clone(), lit.clone())], "  ")
                        }
                        (None, _, _, Fields::Unit) => lit.clone(),
                        (None, _, _, Fields::Unnamed(u)) => format!("{{ {lit}: {} }}", self.ty(&u.unnamed[0].ty)),
                        (None, _, _, Fields::Named(n)) => {
                            format!("{{ {lit}: {} }}", self.object(n, vs.rename_all.as_deref(), &[], "  "))
                        }
                    };
                    arms.push(format!("{}  | {arm}\n", docs(&v.attrs, "  ")));
                }
                let body = format!("export type {name} =\n{};\n", arms.concat().trim_end());
                self.define(&name, &docs(&e.attrs, ""), &body);
            }
            _ => {}
        }
    }

    fn define(&mut self, name: &str, doc: &str, body: &str) {
        assert!(
            self.defined.insert(name.to_string()),
            "two types are called {name}: rename one"
        );
        write!(self.out, "\n{doc}{body}").expect("writing to a String");
    }
}

fn array(inner: String) -> String {
    if inner.contains(' ') {
        format!("({inner})[]")
    } else {
        format!("{inner}[]")
    }
}

/// The whole bindings file from the current sources.
pub fn generate(root: &Path) -> String {
    let mut g = Gen {
        out: String::from(
            "// Generated from the Rust types by src-tauri/tests/bindings.rs — do not edit by hand.\n\
             // Regenerate: CALLREC_UPDATE_BINDINGS=1 cargo test -p callrec-desktop --test desktop bindings\n",
        ),
        defined: BTreeSet::new(),
        used: BTreeSet::new(),
    };
    for source in SOURCES {
        let text = std::fs::read_to_string(root.join(source)).unwrap_or_else(|e| panic!("{source}: {e}"));
        let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{source} does not parse: {e}"));
        write!(g.out, "\n// ---- {source}\n").expect("writing to a String");
        for item in &file.items {
            g.item(item);
        }
    }
    let missing: Vec<_> = g.used.difference(&g.defined).collect();
    assert!(
        missing.is_empty(),
        "the bindings use types no listed source defines (add the file to SOURCES): {missing:?}"
    );
    g.out
}

#[test]
fn bindings_are_current() {
    let root = root();
    let fresh = generate(&root);
    let path = root.join(OUTPUT);
    if std::env::var_os("CALLREC_UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &fresh).expect("write bindings");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{OUTPUT} is stale: regenerate with \
         CALLREC_UPDATE_BINDINGS=1 cargo test -p callrec-desktop --test desktop bindings"
    );
}

#[test]
fn serde_names_follow_the_rules() {
    assert_eq!(rename("RecordingManual", Some("snake_case")), "recording_manual");
    assert_eq!(rename("NoAudioDevice", Some("snake_case")), "no_audio_device");
    assert_eq!(rename("start_ms", Some("camelCase")), "startMs");
    assert_eq!(rename("Pcm16", Some("snake_case")), "pcm16");
}
