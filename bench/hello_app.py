"""The baseline for bench/web_needs.py: a bare Flask "hello" served with the same settings."""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> str:
    return "hello"
