"""The prototype runtime: a Streamlit app that lets pilot customers tap through a prototype spec.

Modules: ``app`` (the Streamlit entry script: wiring only), ``play`` (``play_page``),
``gallery`` (``gallery_page``), ``context`` (the lab, its prototypes and stores, cached),
``visit`` (URL parameters and the customer session in ``st.session_state``), ``phases`` (the
pages of a visit), ``preview`` (the team's side panel), ``texts`` (the runtime's DE/EN texts),
``render`` (element renderers), ``custom`` (custom screens), ``session`` (state and events),
``taps`` (browser tap capture), ``theme`` + ``style.css`` (the look), ``launch``
(``run_prototype``, ``write_qr_sheet``). Nothing is imported here: ``from prototypes.runtime
import launch`` stays cheap for the CLI.
"""
