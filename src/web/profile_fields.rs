//! The standard claims (OpenID Connect Core §5.1) as form fields: read from
//! a posted form, and the values a form shows. The account page and the
//! admin user page share them (the partial `profile_fields.html`).

use crate::model::{Address, Profile};
use serde_json::{json, Value};

/// The profile a form posted; `verified_phone` is whether the form may say
/// the phone number is verified (admins only). Checking is the use case's.
pub fn read<'a>(field: impl Fn(&str) -> Option<&'a str>, may_verify: bool) -> Profile {
    let text = |name: &str| field(name).map(str::to_string);
    let address = Address {
        formatted: None,
        street_address: text("street_address"),
        locality: text("locality"),
        region: text("region"),
        postal_code: text("postal_code"),
        country: text("country"),
    };
    Profile {
        given_name: text("given_name"),
        family_name: text("family_name"),
        middle_name: text("middle_name"),
        nickname: text("nickname"),
        picture: text("picture"),
        website: text("website"),
        gender: text("gender"),
        birthdate: text("birthdate"),
        zoneinfo: text("zoneinfo"),
        locale: text("locale"),
        phone_number: text("phone_number"),
        phone_number_verified: may_verify && field("phone_number_verified") == Some("on"),
        address: Some(address),
    }
}

/// The values the form shows.
pub fn values(p: &Profile) -> Value {
    let address = p.address.clone().unwrap_or_default();
    json!({
        "given_name": p.given_name, "family_name": p.family_name,
        "middle_name": p.middle_name, "nickname": p.nickname, "picture": p.picture,
        "website": p.website, "gender": p.gender, "birthdate": p.birthdate,
        "zoneinfo": p.zoneinfo, "locale": p.locale, "phone_number": p.phone_number,
        "phone_number_verified": p.phone_number_verified,
        "street_address": address.street_address, "locality": address.locality,
        "region": address.region, "postal_code": address.postal_code,
        "country": address.country,
    })
}
