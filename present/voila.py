"""Voila's settings for a class: what `make present` passes (--Voila.config_file_paths=present).

Every page Voila serves starts a kernel of its own (about 106 MB for lab.ipynb;
README, "A Voila server for a class").  A class opens and closes pages all
lesson long, so a kernel must go when its page goes:

1. When the page closes, its kernel ends.  Voila's page sends a beacon to
   /voila/api/shutdown/<kernel> on ``beforeunload`` with the ``_xsrf`` cookie's
   value, but Voila 0.5.13 never sets that cookie, so the server refused every
   beacon (403 "'_xsrf' argument missing from POST", voila-dashboards/voila#1458)
   and every kernel stayed.  The hook below sets the cookie when the page is
   served; the beacon then passes the server's XSRF check, which stays on.
2. A page that vanishes without a beacon (a crashed tab, a laptop put to sleep,
   a lost network) leaves a kernel with no connection: the culler ends it once
   it has been idle for CULL_IDLE_TIMEOUT seconds.  A page that is still open
   keeps its kernel however long the student reads (cull_connected is off), and
   a busy kernel is never cut off mid-computation (cull_busy is off).

tests/browser/test_present_browser.py runs Voila with this file, as the
Makefile does, and watches the kernels go.
"""

#: Seconds without a message before a kernel whose page is gone is ended: long
#: enough for a laptop's short sleep or a network blip to reconnect, short
#: enough that a class's abandoned kernels do not pile up over a lesson.
CULL_IDLE_TIMEOUT = 600
#: How often, in seconds, the culler looks.
CULL_INTERVAL = 60

c = get_config()  # noqa: F821 - traitlets defines it when it loads this file

c.MappingKernelManager.cull_idle_timeout = CULL_IDLE_TIMEOUT
c.MappingKernelManager.cull_interval = CULL_INTERVAL
c.MappingKernelManager.cull_connected = False
c.MappingKernelManager.cull_busy = False

# Presentation: code hidden, and an error in a cell shows a short message, not a traceback.
c.VoilaConfiguration.strip_sources = True
c.VoilaConfiguration.show_tracebacks = False


def set_xsrf_cookie(request_handler, notebook, cwd):
    """Set the ``_xsrf`` cookie on the page, so its closing beacon passes the XSRF check (see 1. above).

    Tornado sets the cookie the first time a handler reads ``xsrf_token``; Voila
    calls this hook before it writes any of the page.  Returning None keeps the
    notebook as it is.
    """
    request_handler.xsrf_token  # noqa: B018 - read for its effect: the Set-Cookie header


c.VoilaConfiguration.prelaunch_hook = set_xsrf_cookie
