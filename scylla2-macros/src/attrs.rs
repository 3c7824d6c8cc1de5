//! Parsing of the `#[scylla2(...)]` attributes on structs and their fields, and the checks on
//! the shape of the input every derive shares (a struct with named fields).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Field, Fields, Ident, LitStr, Path, Type};

/// Attributes on the struct itself.
pub(crate) struct ContainerAttrs {
    /// Path to the scylla2-cql crate in generated code (`crate = path`).
    pub crate_path: TokenStream,
    /// Rows: columns / bind markers matched by position instead of by name.
    pub by_position: bool,
    /// Deserialized rows by name: ignore result columns that match no field.
    pub skip_unknown: bool,
    /// Serialized rows: send each value with its name (QUERY/EXECUTE flag 0x40).
    pub send_names: bool,
}

/// One field of the struct, with its attributes resolved.
pub(crate) struct FieldInfo {
    /// The Rust field name.
    pub ident: Ident,
    /// The field type.
    pub ty: Type,
    /// The CQL name it maps to (the field name or `rename = "..."`).
    pub cql_name: String,
}

/// The parsed input of a derive.
pub(crate) struct Input {
    /// The struct's name.
    pub ident: Ident,
    /// Its generics.
    pub generics: syn::Generics,
    /// Its container attributes.
    pub attrs: ContainerAttrs,
    /// Its fields, in declaration order.
    pub fields: Vec<FieldInfo>,
}

fn set_once<T>(slot: &mut Option<T>, value: T, span: Span, what: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            span,
            format!("duplicate `{what}` attribute"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_container(input: &DeriveInput) -> syn::Result<ContainerAttrs> {
    let mut crate_path: Option<Path> = None;
    let mut by_position: Option<()> = None;
    let mut skip_unknown: Option<()> = None;
    let mut send_names: Option<()> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("scylla2")) {
        attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            if meta.path.is_ident("crate") {
                let path: Path = meta.value()?.parse().map_err(|e| {
                    syn::Error::new(e.span(), "expected `crate = path::to::scylla2_cql`")
                })?;
                set_once(&mut crate_path, path, span, "crate")
            } else if meta.path.is_ident("by_position") {
                no_value(&meta, "by_position")?;
                set_once(&mut by_position, (), span, "by_position")
            } else if meta.path.is_ident("skip_unknown") {
                no_value(&meta, "skip_unknown")?;
                set_once(&mut skip_unknown, (), span, "skip_unknown")
            } else if meta.path.is_ident("send_names") {
                no_value(&meta, "send_names")?;
                set_once(&mut send_names, (), span, "send_names")
            } else if meta.path.is_ident("rename") {
                Err(meta.error("`rename` goes on a field, not on the struct"))
            } else {
                Err(meta.error(
                    "unknown scylla2 attribute; expected `crate = path`, `by_position`, \
                     `skip_unknown` or `send_names`",
                ))
            }
        })?;
    }
    if by_position.is_some() && send_names.is_some() {
        return Err(syn::Error::new(
            input.ident.span(),
            "`by_position` and `send_names` cannot be combined: names are what `send_names` sends",
        ));
    }
    Ok(ContainerAttrs {
        crate_path: match crate_path {
            Some(p) => quote!(#p),
            None => default_crate_path(),
        },
        by_position: by_position.is_some(),
        skip_unknown: skip_unknown.is_some(),
        send_names: send_names.is_some(),
    })
}

/// Where the codec is when the struct does not say (`crate = path`): found in the user's
/// Cargo.toml, so that depending on the driver alone, on the codec alone, or on either under
/// another name all work. `scylla2-cql` is preferred when it is a dependency itself (its own
/// path is the shortest); otherwise the driver's re-export `scylla2::cql`.
fn default_crate_path() -> proc_macro2::TokenStream {
    use proc_macro_crate::{FoundCrate, crate_name};
    match crate_name("scylla2-cql") {
        // Inside scylla2-cql (and its tests): the crate names itself `scylla2_cql`.
        Ok(FoundCrate::Itself) => return quote!(::scylla2_cql),
        Ok(FoundCrate::Name(name)) => {
            let ident = syn::Ident::new(&name, proc_macro2::Span::call_site());
            return quote!(::#ident);
        }
        Err(_) => {}
    }
    match crate_name("scylla2") {
        Ok(FoundCrate::Itself) => quote!(crate::cql),
        Ok(FoundCrate::Name(name)) => {
            let ident = syn::Ident::new(&name, proc_macro2::Span::call_site());
            quote!(::#ident::cql)
        }
        // Neither is a dependency (or Cargo.toml is unreadable): the usual name, with the
        // compiler's "unresolved" error pointing at the attribute that fixes it.
        Err(_) => quote!(::scylla2_cql),
    }
}

fn no_value(meta: &syn::meta::ParseNestedMeta<'_>, name: &str) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("`{name}` takes no value")));
    }
    Ok(())
}

fn parse_field(field: &Field) -> syn::Result<FieldInfo> {
    let Some(ident) = field.ident.clone() else {
        return Err(syn::Error::new(field.span(), "expected a named field"));
    };
    let mut rename: Option<String> = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("scylla2")) {
        attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            if meta.path.is_ident("rename") {
                let lit: LitStr = meta
                    .value()?
                    .parse()
                    .map_err(|e| syn::Error::new(e.span(), "expected `rename = \"name\"`"))?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`rename` needs a non-empty name",
                    ));
                }
                set_once(&mut rename, lit.value(), span, "rename")
            } else {
                Err(meta.error("unknown scylla2 field attribute; expected `rename = \"name\"`"))
            }
        })?;
    }
    let cql_name = rename.unwrap_or_else(|| {
        let s = ident.to_string();
        s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
    });
    Ok(FieldInfo {
        ident,
        ty: field.ty.clone(),
        cql_name,
    })
}

/// Parses a derive input that must be a struct with named fields; `what` names the derive in
/// error messages.
pub(crate) fn parse_input(input: &DeriveInput, what: &str) -> syn::Result<Input> {
    let named = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => named,
            Fields::Unnamed(_) => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    format!("{what} cannot be derived for a tuple struct: use named fields"),
                ));
            }
            Fields::Unit => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    format!("{what} cannot be derived for a unit struct: use named fields"),
                ));
            }
        },
        Data::Enum(e) => {
            return Err(syn::Error::new(
                e.enum_token.span,
                format!("{what} cannot be derived for an enum: use a struct with named fields"),
            ));
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span,
                format!("{what} cannot be derived for a union: use a struct with named fields"),
            ));
        }
    };
    let attrs = parse_container(input)?;
    let fields = named
        .named
        .iter()
        .map(parse_field)
        .collect::<syn::Result<Vec<_>>>()?;
    if fields.is_empty() {
        return Err(syn::Error::new(
            input.ident.span(),
            format!("{what} needs at least one field"),
        ));
    }
    for (i, f) in fields.iter().enumerate() {
        if let Some(other) = fields[..i].iter().find(|o| o.cql_name == f.cql_name) {
            return Err(syn::Error::new(
                f.ident.span(),
                format!(
                    "fields `{}` and `{}` both map to the CQL name {:?}",
                    other.ident, f.ident, f.cql_name
                ),
            ));
        }
    }
    Ok(Input {
        ident: input.ident.clone(),
        generics: input.generics.clone(),
        attrs,
        fields,
    })
}
