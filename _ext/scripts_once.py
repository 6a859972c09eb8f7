"""Write each <script> of a page once.

Sphinx 7.4 writes an inline (body-only) script twice when an extension adds it after the builder starts:
`Sphinx.add_js_file` hands the builder the file name None, and `StandaloneHTMLBuilder.prepare_writing` adds the
registry's copy again under the name ''. sphinx-thebe's inline `const THEBE_JS_URL = ...` is such a script, and a
`const` declared twice is a SyntaxError on every page (tests/test_browser.py reports it). Keep the first copy.
"""


def _key(js):
    return (getattr(js, "filename", js) or "", getattr(js, "priority", None),
            tuple(sorted(getattr(js, "attributes", {}).items())))


def scripts_once(app, pagename, templatename, context, doctree):
    files = context.get("script_files")
    if not files:
        return
    seen, keep = set(), []
    for js in files:
        if _key(js) not in seen:
            seen.add(_key(js))
            keep.append(js)
    files[:] = keep


def setup(app):
    app.connect("html-page-context", scripts_once, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
