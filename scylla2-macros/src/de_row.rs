//! `#[derive(DeserializeRow)]`: by name (a `match` on each column's name) or by position.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::attrs::Input;
use crate::generics::{frame_lt, meta_lt, split_de};

/// Expands the derive.
pub(crate) fn expand(input: Input) -> TokenStream {
    let krate = &input.attrs.crate_path;
    let f = frame_lt();
    let m = meta_lt();
    let (impl_g, ty_g, where_c) = split_de(&input);
    let ident = &input.ident;
    let body = if input.attrs.by_position {
        by_position(&input)
    } else {
        by_name(&input)
    };
    quote! {
        #[automatically_derived]
        impl #impl_g #krate::value::DeserializeRow<#f, #m> for #ident #ty_g #where_c {
            #body
        }
    }
}

fn by_position(input: &Input) -> TokenStream {
    let krate = &input.attrs.crate_path;
    let ds = quote!(#krate::value::derive_support);
    let rust_type = input.ident.to_string();
    let n = input.fields.len();
    let checks = input.fields.iter().enumerate().map(|(i, fi)| {
        let ty = &fi.ty;
        let name = fi.ident.to_string();
        quote!(#ds::check_column::<#ty>(#rust_type, #name, &__scylla2_columns[#i])?;)
    });
    let reads = input.fields.iter().enumerate().map(|(i, fi)| {
        let ty = &fi.ty;
        let ident = &fi.ident;
        let name = fi.ident.to_string();
        quote! {
            #ident: {
                let (__scylla2_spec, __scylla2_value) = #ds::next_column(&mut __scylla2_row, #n, #i)?;
                #ds::read_column::<#ty>(#rust_type, #name, __scylla2_spec, __scylla2_value)?
            },
        }
    });
    let f = frame_lt();
    let m = meta_lt();
    quote! {
        fn check_types(
            __scylla2_columns: &#m [#krate::types::ColumnSpec],
        ) -> ::core::result::Result<(), #krate::value::DeserializeError> {
            #ds::check_column_count(#n, __scylla2_columns.len())?;
            #(#checks)*
            ::core::result::Result::Ok(())
        }

        fn deserialize(
            mut __scylla2_row: #krate::value::ColumnIterator<#f, #m>,
        ) -> ::core::result::Result<Self, #krate::value::DeserializeError> {
            #ds::check_column_count(#n, __scylla2_row.columns_remaining())?;
            ::core::result::Result::Ok(Self { #(#reads)* })
        }
    }
}

fn by_name(input: &Input) -> TokenStream {
    let krate = &input.attrs.crate_path;
    let ds = quote!(#krate::value::derive_support);
    let rust_type = input.ident.to_string();
    let slots: Vec<_> = (0..input.fields.len())
        .map(|i| format_ident!("__scylla2_field_{}", i))
        .collect();
    let seen: Vec<_> = (0..input.fields.len())
        .map(|i| format_ident!("__scylla2_seen_{}", i))
        .collect();
    let unknown = if input.attrs.skip_unknown {
        quote!(_ => {})
    } else {
        quote! {
            __scylla2_other => {
                return ::core::result::Result::Err(#ds::unknown_column(#rust_type, __scylla2_other));
            }
        }
    };

    let check_arms = input.fields.iter().zip(&seen).map(|(fi, seen)| {
        let ty = &fi.ty;
        let col = &fi.cql_name;
        let name = fi.ident.to_string();
        quote! {
            #col => {
                if #seen {
                    return ::core::result::Result::Err(#ds::duplicate_column(#rust_type, #col));
                }
                #seen = true;
                #ds::check_column::<#ty>(#rust_type, #name, __scylla2_spec)?;
            }
        }
    });
    let check_missing = input.fields.iter().zip(&seen).map(|(fi, seen)| {
        let col = &fi.cql_name;
        let name = fi.ident.to_string();
        quote! {
            if !#seen {
                return ::core::result::Result::Err(#ds::missing_column(#rust_type, #name, #col));
            }
        }
    });
    let read_arms = input.fields.iter().zip(&slots).map(|(fi, slot)| {
        let ty = &fi.ty;
        let col = &fi.cql_name;
        let name = fi.ident.to_string();
        quote! {
            #col => {
                #slot = ::core::option::Option::Some(
                    #ds::read_column::<#ty>(#rust_type, #name, __scylla2_spec, __scylla2_value)?,
                );
            }
        }
    });
    let decls = input.fields.iter().zip(&slots).map(|(fi, slot)| {
        let ty = &fi.ty;
        quote!(let mut #slot: ::core::option::Option<#ty> = ::core::option::Option::None;)
    });
    let assigns = input.fields.iter().zip(&slots).map(|(fi, slot)| {
        let ident = &fi.ident;
        let col = &fi.cql_name;
        let name = fi.ident.to_string();
        quote! {
            #ident: match #slot {
                ::core::option::Option::Some(__scylla2_v) => __scylla2_v,
                ::core::option::Option::None => {
                    return ::core::result::Result::Err(
                        #ds::missing_column(#rust_type, #name, #col),
                    );
                }
            },
        }
    });
    let f = frame_lt();
    let m = meta_lt();
    quote! {
        fn check_types(
            __scylla2_columns: &#m [#krate::types::ColumnSpec],
        ) -> ::core::result::Result<(), #krate::value::DeserializeError> {
            #(let mut #seen = false;)*
            for __scylla2_spec in __scylla2_columns {
                match __scylla2_spec.name.as_str() {
                    #(#check_arms)*
                    #unknown
                }
            }
            #(#check_missing)*
            ::core::result::Result::Ok(())
        }

        fn deserialize(
            __scylla2_row: #krate::value::ColumnIterator<#f, #m>,
        ) -> ::core::result::Result<Self, #krate::value::DeserializeError> {
            #(#decls)*
            for __scylla2_column in __scylla2_row {
                let (__scylla2_spec, __scylla2_value) = __scylla2_column?;
                match __scylla2_spec.name.as_str() {
                    #(#read_arms)*
                    #unknown
                }
            }
            ::core::result::Result::Ok(Self { #(#assigns)* })
        }
    }
}
