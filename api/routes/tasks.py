"""Tugas saya (what waits on me) and the path of one naskah (its stepper): both read-only."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from api.deps import CurrentUser, Id, ServicesDep, SessionDep
from api.schemas import ProgressPublic, TasksPublic
from pipeline.inbox import tasks
from pipeline.workspace import progress

router = APIRouter()


@router.get(
    "/me/tasks",
    tags=["pengguna"],
    summary="Tugas saya: naskah yang menunggu tindakan saya, yang terlambat lebih dulu, dengan jumlah per jenis",
    description="Menurut peran dan posisi saya di profil SOP: telaah Bagian Hukum, paraf (hanya bila giliran "
    "saya), tanda tangan (langkah saya berikutnya dalam rencana, juga atas Surat Kuasa; pejabat mitra: di "
    "sistemnya sendiri), rencana tanda tangan, kirim ke mitra dan impor berkas kembali (desk to desk), "
    "pengarsipan, dan rancangan yang dikembalikan kepada saya beserta catatannya. Hanya yang akan diterima "
    "pipeline dari saya sekarang (pemisahan tugas berlaku). Lama menunggu dibanding mutu baku waktu profil SOP.",
)
def my_tasks(svc: ServicesDep, session: SessionDep, user: CurrentUser) -> TasksPublic:
    found = tasks.tasks_for(session, user, svc.profile, dt.datetime.now(dt.UTC))
    return TasksPublic.model_validate(
        {
            "data": [t.to_dict() for t in found.data],
            "count": found.count,
            "terlambat": sum(found.terlambat.values()),
            "ringkasan": found.ringkasan(),
        }
    )


@router.get(
    "/naskah/{naskah_id}/progress",
    tags=["naskah"],
    summary="Alur naskah: penyusunan, Bagian Hukum, setiap paraf, rencana dan setiap penanda tangan, arsip",
    description="Setiap langkah: siapa, keadaan (done, current, waiting, refused, skipped), kapan selesai dan "
    "oleh siapa, menunggu sejak, mutu baku waktu dan terlambat atau tidak, dan apakah giliran saya "
    "(`giliran_saya`: pipeline akan menerima langkah saya sekarang).",
)
def naskah_progress(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> ProgressPublic:
    found = progress.progress_of(session, user, naskah_id, profile=svc.profile, now=dt.datetime.now(dt.UTC))
    return ProgressPublic.model_validate(found.to_dict())
