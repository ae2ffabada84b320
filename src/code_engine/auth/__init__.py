"""Authentication and authorization: OAuth2 token endpoint, signed JWTs, JWKS, RBAC."""
