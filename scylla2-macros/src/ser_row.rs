//! `#[derive(SerializeRow)]`: values written in field order; bind markers checked by name
//! (same order required), by position, or sent with their names (`send_names`, any order).

use proc_macro2::TokenStream;
use quote::quote;

use crate::attrs::Input;
use crate::generics::split;

/// Expands the derive.
pub(crate) fn expand(input: Input) -> TokenStream {
    let krate = &input.attrs.crate_path;
    let ds = quote!(#krate::value::derive_support);
    let (impl_g, ty_g, where_c) = split(&input, quote!(#krate::value::SerializeValue), false);
    let ident = &input.ident;
    let rust_type = ident.to_string();
    let n = input.fields.len();
    let idents: Vec<_> = input.fields.iter().map(|f| &f.ident).collect();
    let names: Vec<&str> = input.fields.iter().map(|f| f.cql_name.as_str()).collect();
    let indexes = 0..n;
    let at_indexes = 0..n;
    let content_indexes = 0..n;
    let value_name = if input.attrs.send_names {
        quote! {
            fn value_name(&self, __scylla2_index: usize) -> ::core::option::Option<&str> {
                match __scylla2_index {
                    #(#indexes => ::core::option::Option::Some(#names),)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    } else {
        quote!()
    };
    let checks = if input.attrs.send_names {
        let per_field = input.fields.iter().map(|fi| {
            let id = &fi.ident;
            let name = fi.ident.to_string();
            let col = &fi.cql_name;
            quote!(#ds::check_sent_name(#rust_type, #name, #col, &self.#id, __scylla2_columns)?;)
        });
        quote! {
            #(#per_field)*
            #ds::check_markers_have_names(#rust_type, &[#(#names),*], __scylla2_columns)?;
        }
    } else if input.attrs.by_position {
        let per_field = input.fields.iter().enumerate().map(|(i, fi)| {
            let id = &fi.ident;
            let name = fi.ident.to_string();
            quote!(#ds::check_positional_field(#rust_type, #name, #i, &self.#id, __scylla2_columns)?;)
        });
        quote! {
            #ds::check_value_count(#n, __scylla2_columns)?;
            #(#per_field)*
        }
    } else {
        let per_field = input.fields.iter().enumerate().map(|(i, fi)| {
            let id = &fi.ident;
            let name = fi.ident.to_string();
            let col = &fi.cql_name;
            quote!(#ds::check_named_field(#rust_type, #name, #col, #i, &self.#id, __scylla2_columns)?;)
        });
        quote! {
            #(#per_field)*
            #ds::check_no_extra_marker(#rust_type, #n, __scylla2_columns)?;
        }
    };
    quote! {
        #[automatically_derived]
        impl #impl_g #krate::value::SerializeRow for #ident #ty_g #where_c {
            fn value_count(&self) -> usize {
                #n
            }

            fn check_types(
                &self,
                __scylla2_columns: &[#krate::types::ColumnSpec],
            ) -> ::core::result::Result<(), #krate::value::SerializeError> {
                #checks
                ::core::result::Result::Ok(())
            }

            fn values_size(&self) -> usize {
                0 #(+ #krate::value::SerializeValue::value_size(&self.#idents))*
            }

            fn write_values(&self, __scylla2_buf: &mut &mut [u8]) {
                #(#krate::value::SerializeValue::write_value(&self.#idents, __scylla2_buf);)*
            }

            #[inline]
            fn value_at(
                &self,
                __scylla2_index: usize,
            ) -> ::core::option::Option<&dyn #krate::value::SerializeValue> {
                match __scylla2_index {
                    #(#at_indexes => ::core::option::Option::Some(&self.#idents),)*
                    _ => ::core::option::Option::None,
                }
            }

            #[inline]
            fn value_content_at(
                &self,
                __scylla2_index: usize,
            ) -> ::core::option::Option<#krate::value::ValueContent<'_>> {
                match __scylla2_index {
                    #(#content_indexes => ::core::option::Option::Some(
                        #krate::value::SerializeValue::value_content(&self.#idents),
                    ),)*
                    _ => ::core::option::Option::None,
                }
            }

            #value_name
        }
    }
}
