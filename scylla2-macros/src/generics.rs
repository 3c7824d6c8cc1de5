//! Impl generics for the derives: the struct's own parameters plus, for deserialization, the
//! `'frame` and `'meta` lifetimes, with a bound on every field type.

use proc_macro2::TokenStream;
use proc_macro2::{Group, Span, TokenTree};
use quote::quote;
use syn::spanned::Spanned;
use syn::{GenericParam, Generics, Lifetime, LifetimeParam, WherePredicate, parse_quote};

use crate::attrs::Input;

/// The lifetime of the response frame in generated impls.
pub(crate) fn frame_lt() -> Lifetime {
    Lifetime::new("'scylla2_frame", Span::call_site())
}

/// The lifetime of the column metadata in generated impls.
pub(crate) fn meta_lt() -> Lifetime {
    Lifetime::new("'scylla2_meta", Span::call_site())
}

/// `(impl generics, type generics, where clause)` for an impl whose every field type is bound
/// by `bound` (e.g. `SerializeValue`); `with_de_lifetimes` adds `'scylla2_frame` and
/// `'scylla2_meta` in front.
pub(crate) fn split(
    input: &Input,
    bound: TokenStream,
    with_de_lifetimes: bool,
) -> (TokenStream, TokenStream, TokenStream) {
    let mut generics: Generics = input.generics.clone();
    if with_de_lifetimes {
        generics
            .params
            .insert(0, GenericParam::Lifetime(LifetimeParam::new(meta_lt())));
        generics
            .params
            .insert(0, GenericParam::Lifetime(LifetimeParam::new(frame_lt())));
    }
    {
        let where_clause = generics.make_where_clause();
        for f in &input.fields {
            let ty = &f.ty;
            // Spanned on the field type, so that a type without the trait is reported there.
            let bound = respan(bound.clone(), ty.span());
            let pred: WherePredicate = parse_quote!(#ty: #bound);
            where_clause.predicates.push(pred);
        }
    }
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let (_, ty_generics, _) = input.generics.split_for_impl();
    (
        quote!(#impl_generics),
        quote!(#ty_generics),
        quote!(#where_clause),
    )
}

/// [`split`] for a deserialization impl: the `'scylla2_frame` and `'scylla2_meta` lifetimes
/// in front and every field type bound by `DeserializeValue<'scylla2_frame, 'scylla2_meta>`.
pub(crate) fn split_de(input: &Input) -> (TokenStream, TokenStream, TokenStream) {
    let krate = &input.attrs.crate_path;
    let f = frame_lt();
    let m = meta_lt();
    split(input, quote!(#krate::value::DeserializeValue<#f, #m>), true)
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut out = Group::new(g.delimiter(), respan(g.stream(), span));
                out.set_span(span);
                TokenTree::Group(out)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}
