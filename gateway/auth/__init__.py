"""Who is calling: credentials checked at the edge (bearer JWTs of an OIDC identity provider)."""
