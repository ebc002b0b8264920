//! Administration over HTTP: the JSON admin API for automation and the
//! admin screens for people.

pub mod api;
mod api_auth;
