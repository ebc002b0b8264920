//! The self-service account page, `/account`: the page and its plain
//! changes (`page`), passkeys (`passkeys`), and the changes that take a
//! secret (`secret_forms`).

pub mod form;
pub mod page;
pub mod passkeys;
pub mod secret_forms;
pub mod upstreams;
pub mod verify_email;

pub use form::AccountForm;
pub use page::sign_in_first;
pub use secret_forms::show_recovery_codes;
