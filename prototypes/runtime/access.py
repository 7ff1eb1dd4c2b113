"""Who may see what: the lab's access token, the one gate of the runtime and the dashboard.

A customer opens a link for one prototype in one store and needs nothing else. Everything that
shows the lab (the gallery, the team preview, version and variant switches, the analyst
dashboard's pages) needs the lab's ``[dashboard] token``: ``?token=`` in the link or typed into
the sign-in form, compared in constant time. The token is read from ``storelab.toml`` on every
page run, so after ``storelab token rotate`` old links and open pages are locked out at once.
"""

from __future__ import annotations

import hmac

import streamlit as st

from lab import Lab

TOKEN_KEY = "storelab_token"
"""session_state: the token this browser session was opened with (or typed)."""


def token_matches(lab: Lab, given: object) -> bool:
    """Constant-time comparison with the lab's ``[dashboard] token`` (False for no token)."""
    if not isinstance(given, str) or not given:
        return False
    expected = lab.config.dashboard.token
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def given_token() -> str:
    """The token of this session: ``?token=`` read once, or what was typed since."""
    if TOKEN_KEY not in st.session_state:
        st.session_state[TOKEN_KEY] = st.query_params.get("token", "")
    return st.session_state[TOKEN_KEY]


def authorised(lab: Lab) -> bool:
    """Whether this session may see the lab (the token it was given matches, now)."""
    return token_matches(lab, given_token())


def sign_in(lab: Lab, title: str, intro: str) -> None:
    """The form that asks for the token; shows nothing of the lab. A match reruns the page."""
    st.title(title)
    st.write(intro)
    typed = st.text_input(
        "Access token", key="token_entry", type="password", placeholder="paste the token here"
    )
    st.button("Open", key="token_submit", type="primary")
    if typed:
        if token_matches(lab, typed.strip()):
            st.session_state[TOKEN_KEY] = typed.strip()
            st.rerun()
        st.error("That token does not match this lab's access token.")
    elif given_token():
        st.error("The token in the link does not match this lab's access token.")


__all__ = ["TOKEN_KEY", "authorised", "given_token", "sign_in", "token_matches"]
