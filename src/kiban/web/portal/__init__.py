"""The citizen portal (マイナポータル-like), the residents' audience: sign-in session, my page,
business accounts, inbox, "who used my data", consent to companies and procedures."""
