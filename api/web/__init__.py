"""The web pages people work in, on the same FastAPI app as the API, and the files they load.

How a page is built (every module here follows it; ``pages.py``'s "Ubah kata sandi" is the small
complete example):

* A module per area (``kerjasama.py``, ``paraf.py``, ``tanda_tangan.py``, ``arsip.py``, ...) with its own
  ``APIRouter(include_in_schema=False)``, included in ``api.main.create_app`` next to ``pages.router``.
* A GET takes ``signed: PageUser``; a POST takes ``signed: FormUser`` (``security.py``: the session,
  the Origin/Sec-Fetch-Site check and the CSRF token already checked).  Both call the same
  ``pipeline`` functions as the matching route of ``api/routes/`` with ``signed.user``: no rule lives
  here.  ``/api/v1`` stays bearer-only, so a page's downloads have routes of their own here.
* ``render.page(request, "x.html", ctx)`` renders a template (Jinja2: autoescape, StrictUndefined) that
  extends ``base.html``.  A form POST that the pipeline or pydantic refuses answers
  ``render.form_error(request, template, as_naskah_error(exc), form_fields=[...], values=...)``: the
  GOV.UK error summary on top, the named fields marked, the input kept (never a secret); any other
  error becomes an error page in the layout (``errors.py``, the API's status table).
* Forms work without JavaScript (POST, then 303 to a GET); htmx 2.0.x only swaps parts in place and
  sends the CSRF token from ``<body hx-headers>``.  No inline script or style (the CSP forbids them):
  behaviour goes in ``static/app.js``, looks in ``static/app.css``.
"""
