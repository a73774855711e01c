"""Identity (公的個人認証 and sign-in): the card PKI, the OpenID Connect provider and business
accounts. The facade other blocks, the web layer and the CLI use."""
