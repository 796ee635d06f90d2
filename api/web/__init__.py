"""The web pages, on the same FastAPI app as the API: server-rendered Jinja2 + htmx 2.0.x + Bootstrap 5.

Where things are:

- ``pages.py`` — the routes of the foundation: ``/`` (Beranda), ``/masuk`` and ``/keluar``,
  ``/akun/kata-sandi`` (the model form below).  A page module of its own per area (``kerja_sama.py``,
  ``naskah.py``, …) with its ``router``, included in ``api/main.py`` beside ``pages.router``.
- ``templates/`` — ``base.html`` (the layout: header, navigation, skip link, ``lang="id"``,
  ``hx-headers`` with the CSRF token on ``<body>``), ``_form.html`` (``error_summary``, ``field``,
  ``csrf`` macros), one template per page; ``galat.html`` for error pages.
- ``render.py`` — the strict Jinja environment (autoescape, StrictUndefined), :func:`page`,
  :class:`FormErrors` and :func:`form_error` (a pipeline error on its form).
- ``security.py`` — security headers (CSP without inline script), the session cookie,
  ``PageUser`` (a GET's signed-in user) and ``FormUser`` (a POST's: origin check + CSRF token).
- ``errors.py`` — any error on a page becomes a page in the layout (``api.errors``' one status table):
  401 redirects to ``/masuk?next=…``, 403/404/409/422 show the pipeline's message, 500 only an error id.
- ``assets.py`` + ``static/vendor/`` — vendored, pinned front-end packages (``package.json`` "vendor",
  ``make vendor-web``, checked by ``tests/test_vendor.py``); ``static/app.css``, ``static/app.js`` ours.

The pattern of a page (as thin as its API twin: parse, call the pipeline, render)::

    @router.get("/kerja-sama/{case_id}", response_class=HTMLResponse)
    def kerja_sama(request: Request, case_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep):
        case = cases.get_case(session, signed.user, case_id, profile=svc.profile)  # 404 page if not visible
        return page(request, "kerja_sama.html", {"case": case})

The pattern of a form (``/akun/kata-sandi`` in ``pages.py`` is the complete example, with tests in
``tests/test_web.py`` and ``tests/test_web_browser.py``)::

    FIELDS = ["judul", "objek"]                      # the form's fields, in the order shown

    @router.post("/kerja-sama/{case_id}", response_class=HTMLResponse)
    def ubah(request: Request, case_id: Id, signed: FormUser, svc: ServicesDep, session: SessionDep,
             judul: Annotated[str, Form()] = "", objek: Annotated[str, Form()] = ""):
        values = {"judul": judul, "objek": objek}
        try:
            cases.update_case(session, signed.user, case_id, CaseUpdate(**values), profile=svc.profile)
        except (NaskahError, ValidationError) as exc:   # 422: the form again; 403/404/409: the error page
            return form_error(request, "kerja_sama_ubah.html", as_naskah_error(exc),
                              form_fields=FIELDS, values=values)
        return RedirectResponse(f"/kerja-sama/{case_id}", status_code=303)   # post/redirect/get

- ``FormUser`` refuses the POST (a 403 page saying why) unless it comes from our own pages
  (``Origin``/``Sec-Fetch-Site``) and carries the session's CSRF token: every ``<form method="post">``
  includes ``{{ csrf(csrf_token) }}``; htmx requests send it as ``X-CSRF-Token`` from ``<body>``.
- The template calls ``{{ error_summary(errors, form_fields) }}`` at the top and
  ``{{ field("judul", "Judul", errors, values) }}`` per field: a message whose ``detail.field`` is
  one of the form's fields marks that field (``is-invalid``, ``aria-describedby``) and links to it
  from "Ada masalah"; anything else is said in the summary.  Never send a password back (``keep=false``).
- Core forms work without JavaScript; htmx only improves them.  No inline ``<script>``, ``style=`` or
  ``on*=`` attributes: the Content-Security-Policy refuses them.  Put behaviour in ``static/app.js``.
- Lists and counts come from the pipeline's own functions, which apply ``pipeline.access``: a page
  never filters what a user may see itself.
- A browser test: ``live.sign_in("u-drafter")`` (``tests/fixtures/browser.py``) gives a page of a
  fresh context; check ``axe_violations(page) == []`` and take ``screenshot(page, name, tmp_path)``.
"""
