//! [`UserType`]: a person or a service account.

use crate::open_enum::open_enum;

open_enum! {
    /// The kind of user, as the contract writes it (`"Personal"`, `"Service"`).
    ///
    /// Any other value is kept in [`UserType::Other`] and written back unchanged.
    ///
    /// ```
    /// use identity_models::UserType;
    /// assert_eq!("Service".parse::<UserType>(), Ok(UserType::Service));
    /// assert_eq!(UserType::from("Robot").to_string(), "Robot");
    /// ```
    UserType {
        /// `Personal`: a person; the login is the email address.
        Personal => "Personal",
        /// `Service`: a service account with its own login.
        Service => "Service",
    }
}
