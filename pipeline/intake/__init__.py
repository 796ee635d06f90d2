"""Intake: an incoming penawaran or permohonan, from its letter to a kerja sama case ready for drafting.

``lifecycle`` is the one table of its states and steps; ``workflow`` the steps themselves (kelengkapan,
disposisi, telaah, rapat TKKSD, the Kepala Daerah's decision); ``pipeline.drafting.attachments`` checks uploaded files;
``letters`` renders the undangan, berita acara and outgoing letters from ``templates/intake``.
"""
