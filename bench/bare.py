"""The baseline of `make bench`: a bare Flask endpoint answering constant TwiML, served like the
application (gunicorn, same workers), so every webhook figure is a ratio measured in the same run."""

from __future__ import annotations

from flask import Flask, Response

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/next" method="POST" '
    'finishOnKey="#" timeout="7"><Say language="fr-FR">Bonjour</Say></Gather></Response>'
)

app = Flask(__name__)


@app.post("/voice/incoming")
@app.post("/voice/caller/step/<step>")
def constant(step: str = "") -> Response:
    return Response(TWIML, mimetype="text/xml")
