//! The names most programs need: `use finbourne_identity::prelude::*;`.

pub use crate::{Error, ErrorKind, IdentityClient, RequestOptions};
pub use identity_models::{
    CreateUserRequest, ErrorCode, RoleId, UpdateUserRequest, UpdateUserSchemaRequest, UserResponse,
    UserSchemaProperty, UserStatus, UserType,
};
