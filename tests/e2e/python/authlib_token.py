"""Gets a client-credentials token from edgeauth with Python authlib, unchanged defaults.

usage: authlib_token.py TOKEN_URL CLIENT_ID METHOD CREDENTIAL
  METHOD: client_secret_basic | client_secret_post | client_secret_jwt | private_key_jwt
  CREDENTIAL: the client secret, or a PEM private key (RS256) for private_key_jwt
Prints the token response as JSON, or {"error_status": ..., "error_body": ...} on failure.
"""

import json
import sys

from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT


def main() -> None:
    token_url, client_id, method, credential = sys.argv[1:5]
    if method == "private_key_jwt":
        # authlib's default: RS256, exp = iat + 3600.
        session = OAuth2Session(client_id, credential, token_endpoint_auth_method=PrivateKeyJWT(token_url))
    elif method == "client_secret_jwt":
        session = OAuth2Session(client_id, credential, token_endpoint_auth_method=ClientSecretJWT(token_url))
    else:
        session = OAuth2Session(client_id, credential, token_endpoint_auth_method=method)
    try:
        token = session.fetch_token(token_url, grant_type="client_credentials")
    except OAuthError as e:
        print(json.dumps({"error_status": None, "error_body": {"error": e.error, "error_description": e.description}}))
        return
    print(json.dumps(dict(token)))


if __name__ == "__main__":
    main()
