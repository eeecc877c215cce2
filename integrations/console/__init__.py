"""The organisation's own console at /integrators/ (docs/integrators.md, "The organisation's console").

Its contact logs in with a password and a TOTP code (django-otp, as staff do),
sees the organisation's keys, their use per day, its webhook endpoints and
deliveries, and may rotate or revoke a key. Issuing a key or raising a quota
stays with the fund's supervisors.
"""
