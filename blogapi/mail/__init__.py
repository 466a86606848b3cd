"""Mail: account messages (verification, password reset, notices) staged in the outbox with
the change that causes them and sent by the worker over SMTP, with retries.

- `outbox.queue_mail(template, to_address, user_id=, context=)` stages one message in the
  caller's transaction. `kinds.register_preparer(template, fn)` lets a feature fill a
  message's context in the worker at its first attempt (or skip it).
- Templates: `templates/<name>.txt` and `templates/<name>.html`, Jinja. The subject is the
  `{% block subject %}` of the .txt template (one line; whitespace is folded); the .txt extends
  `base.txt` filling `{% block body %}`, the .html extends `base.html` the same way. Each gets
  `site_title`, `site_url`, `subject` (in the .html) and the message's context.
- Transports (transports.py): MAIL_URL's SMTP server; unset, `.eml` files in MAIL_DIR (the
  instance folder's mail/); `none`, mail off: nothing is staged and `mail_enabled()` is false.
- `sending.send_due_mail()` sends what is due once, as the worker's rounds do.
"""

from __future__ import annotations

from typing import Any


def mail_enabled(app_or_config: Any) -> bool:
    """Whether mail goes anywhere (MAIL_URL is not `none`): an app or its config."""
    config = getattr(app_or_config, "config", app_or_config)
    return bool(config["MAIL_URL"] != "none")
