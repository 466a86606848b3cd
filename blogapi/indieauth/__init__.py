"""IndieAuth: the sign-in Micropub clients use. A writer signs in on our consent page, the
client trades the code (with PKCE) for a personal access token, and `me` is the writer's
author page."""
