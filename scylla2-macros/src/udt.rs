//! `#[derive(SerializeValue)]` and `#[derive(DeserializeValue)]` for structs mapped to CQL
//! user-defined types.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::attrs::Input;
use crate::generics::{frame_lt, meta_lt, split, split_de};

/// Expands `SerializeValue`: fields written in declaration order, checked against the type's
/// fields at the same positions.
pub(crate) fn expand_serialize(input: Input) -> TokenStream {
    let krate = &input.attrs.crate_path;
    let ds = quote!(#krate::value::derive_support);
    let sv = quote!(#krate::value::SerializeValue);
    let (impl_g, ty_g, where_c) = split(&input, sv.clone(), false);
    let ident = &input.ident;
    let rust_type = ident.to_string();
    let idents: Vec<_> = input.fields.iter().map(|f| &f.ident).collect();
    let checks = input.fields.iter().enumerate().map(|(i, fi)| {
        let id = &fi.ident;
        let name = fi.ident.to_string();
        let udt_field = &fi.cql_name;
        quote! {
            #ds::check_udt_value_field(#rust_type, #name, #udt_field, #i, &self.#id, __scylla2_typ, __scylla2_def)?;
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_g #ident #ty_g #where_c {
            #[doc(hidden)]
            #[inline]
            fn __scylla2_content_size(&self) -> usize {
                0 #(+ #sv::value_size(&self.#idents))*
            }
        }

        #[automatically_derived]
        impl #impl_g #sv for #ident #ty_g #where_c {
            fn check_type(
                &self,
                __scylla2_typ: &#krate::types::CqlType,
            ) -> ::core::result::Result<(), #krate::value::SerializeError> {
                let __scylla2_def = #ds::ser_udt_type::<Self>(__scylla2_typ)?;
                #(#checks)*
                #krate::value::derive_support::check_value_size(self.__scylla2_content_size())
            }

            fn value_size(&self) -> usize {
                4 + self.__scylla2_content_size()
            }

            fn write_value(&self, __scylla2_buf: &mut &mut [u8]) {
                #ds::put_content_len(__scylla2_buf, self.__scylla2_content_size());
                #(#sv::write_value(&self.#idents, __scylla2_buf);)*
            }

            fn vector_element_size(&self) -> usize {
                #ds::vector_element_size(self.__scylla2_content_size())
            }

            fn write_vector_element(&self, __scylla2_buf: &mut &mut [u8]) {
                #ds::put_vector_element_len(__scylla2_buf, self.__scylla2_content_size());
                #(#sv::write_value(&self.#idents, __scylla2_buf);)*
            }
        }
    }
}

/// Expands `DeserializeValue`: the type's fields are walked in order and matched to the
/// struct's fields by name; unknown ones are skipped.
pub(crate) fn expand_deserialize(input: Input) -> TokenStream {
    let krate = &input.attrs.crate_path;
    let ds = quote!(#krate::value::derive_support);
    let f = frame_lt();
    let m = meta_lt();
    let (impl_g, ty_g, where_c) = split_de(&input);
    let ident = &input.ident;
    let rust_type = ident.to_string();
    let slots: Vec<_> = (0..input.fields.len())
        .map(|i| format_ident!("__scylla2_field_{}", i))
        .collect();
    let checks = input.fields.iter().map(|fi| {
        let ty = &fi.ty;
        let name = fi.ident.to_string();
        let udt_field = &fi.cql_name;
        quote!(#ds::check_udt_field::<#ty>(#rust_type, #name, #udt_field, __scylla2_typ, __scylla2_def)?;)
    });
    let decls = input.fields.iter().zip(&slots).map(|(fi, slot)| {
        let ty = &fi.ty;
        quote!(let mut #slot: ::core::option::Option<#ty> = ::core::option::Option::None;)
    });
    let arms = input.fields.iter().zip(&slots).map(|(fi, slot)| {
        let ty = &fi.ty;
        let name = fi.ident.to_string();
        let udt_field = &fi.cql_name;
        quote! {
            #udt_field => {
                #slot = ::core::option::Option::Some(
                    #ds::read_udt_field::<#ty>(#rust_type, #name, #udt_field, __scylla2_ftyp, __scylla2_value)?,
                );
            }
        }
    });
    let assigns = input.fields.iter().zip(&slots).map(|(fi, slot)| {
        let id = &fi.ident;
        let name = fi.ident.to_string();
        let udt_field = &fi.cql_name;
        quote! {
            #id: match #slot {
                ::core::option::Option::Some(__scylla2_v) => __scylla2_v,
                ::core::option::Option::None => {
                    return ::core::result::Result::Err(
                        #ds::missing_udt_field(#rust_type, #name, #udt_field, __scylla2_typ),
                    );
                }
            },
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_g #krate::value::DeserializeValue<#f, #m> for #ident #ty_g #where_c {
            fn check_type(
                __scylla2_typ: &#m #krate::types::CqlType,
            ) -> ::core::result::Result<(), #krate::value::DeserializeError> {
                let __scylla2_def = #ds::de_udt_type::<Self>(__scylla2_typ)?;
                #(#checks)*
                ::core::result::Result::Ok(())
            }

            fn deserialize(
                __scylla2_typ: &#m #krate::types::CqlType,
                __scylla2_value: ::core::option::Option<#krate::value::FrameSlice<#f>>,
            ) -> ::core::result::Result<Self, #krate::value::DeserializeError> {
                let __scylla2_def = #ds::de_udt_type::<Self>(__scylla2_typ)?;
                let mut __scylla2_fields = #ds::UdtFieldReader::new::<Self>(__scylla2_value)?;
                #(#decls)*
                for (__scylla2_name, __scylla2_ftyp) in &__scylla2_def.fields {
                    let __scylla2_value = __scylla2_fields.next_field()?;
                    match __scylla2_name.as_str() {
                        #(#arms)*
                        _ => {}
                    }
                }
                __scylla2_fields.finish()?;
                ::core::result::Result::Ok(Self { #(#assigns)* })
            }
        }
    }
}
