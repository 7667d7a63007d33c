"""What the pages share, one topic per module; pages import what they use from the topical module.

Pages stay thin: they read widgets, call the ``denoiser`` package and draw with these helpers.
Nothing here does model math: denoising goes through ``Denoiser.denoise`` and
``denoiser.auto.denoise``, errors through ``denoiser.metrics``, baselines through
``denoiser.classical``.

==============  ==================================================================================
``state``       the session: one typed object over ``st.session_state`` (every key, its default,
                reset), the data's :class:`~app_pages.ui.state.Origin`
``data``        :class:`~app_pages.ui.data.Signal`, generated and uploaded data, the one
                :func:`~app_pages.ui.data.current_signal`, the session's limits on data
``models``      the bundled models, the session's own, the model in use and how captions name it
``offers``      a newly trained model offered next to the one in use, not imposed
``runs``        the Model page's training and search forms, and the view of a run (live, ended)
``estimate``    the automatic pipeline's results (kept per session), the estimate panel, the
                method choice, the noise-level controls, the demos' figure and scores
``charts``      figures, metric cards and tables, big series: downsampling and zoom
``links``       the shareable link: reading ``st.query_params`` once, writing it after every run
``choices``     option lists of the controls that pages and links share (stable keys, labels)
``samples``     the sample files in assets/samples
``text``        file-derived text for Markdown and option lists
``runtime``     what app.py runs: the Keras-state patch, the per-run setup and the sidebar
==============  ==================================================================================

The training queue and the session janitor stay beside the pages (``app_pages/_training.py``,
``app_pages/_sessions.py``): they run threads of their own and never draw.
"""
