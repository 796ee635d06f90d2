"""Response shapes of the HTTP API (request bodies reuse the pipeline's input models)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from pipeline.drafting.cases import Note, check_data_size
from pipeline.models import MAX_ID
from pipeline.textcheck import LineCheck

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int


class UserPublic(BaseModel):
    id: int
    username: str
    nama: str
    jabatan: str
    nip: str | None
    nik: str | None = None
    roles: list[str]
    posisi: list[str] = Field(default=[], description="posisi di profil SOP (mis. sekda)")
    opd: str | None = Field(default=None, description="OPD pejabat: ia melihat kerja sama OPD ini")
    pihak_luar: bool = Field(
        default=False, description="pejabat pihak mitra: hanya melihat naskah yang ia tanda tangani"
    )
    instansi: str | None = Field(default=None, description="instansi pejabat pihak mitra")
    active: bool = True


class UserAdminPublic(UserPublic):
    """An account as the admin sees it."""

    token_berlaku: int = Field(description="token yang masih berlaku (belum dicabut, belum kedaluwarsa)")
    created_at: datetime
    email: str | None = Field(default=None, description="alamat surel notifikasi")
    email_notifikasi: bool = Field(default=True, description="pengguna menerima notifikasi lewat surel")


class TokenPublic(BaseModel):
    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    status: str = Field(description="berlaku, kedaluwarsa atau dicabut")


class TokenIssued(TokenPublic):
    token: str = Field(description="token akses; hanya ditampilkan sekali, simpan sekarang")


class UserCreated(BaseModel):
    user: UserAdminPublic
    token: TokenIssued


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), LineCheck]


class UserCreate(_Body):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64)]
    nama: Name
    jabatan: Name
    roles: list[str] = Field(
        min_length=1, max_length=6, description="drafter, legal, paraf, signer, secretariat, admin"
    )
    posisi: list[Annotated[str, StringConstraints(max_length=64)]] = Field(default=[], max_length=10)
    nip: Annotated[str, StringConstraints(max_length=32)] | None = None
    nik: Annotated[str, StringConstraints(max_length=32)] | None = None
    opd: Name | None = Field(default=None, description="OPD pejabat Pemda (disamakan dengan OPD teknis kerja sama)")
    pihak_luar: bool = Field(default=False, description="pejabat pihak mitra (hanya peran signer, wajib instansi)")
    instansi: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), LineCheck] | None
    ) = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = Field(
        default=None, description="alamat surel untuk notifikasi"
    )
    token_label: Annotated[str, StringConstraints(max_length=100), LineCheck] = ""
    token_hari: int | None = Field(default=None, ge=1, le=3650, description="masa berlaku token pertama (hari)")


class UserUpdate(_Body):
    """Fields to change; omitted fields stay."""

    nama: Name | None = None
    jabatan: Name | None = None
    roles: list[str] | None = Field(default=None, min_length=1, max_length=6)
    posisi: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(default=None, max_length=10)
    nip: Annotated[str, StringConstraints(max_length=32)] | None = None
    nik: Annotated[str, StringConstraints(max_length=32)] | None = None
    opd: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), LineCheck] | None = None
    pihak_luar: bool | None = None
    instansi: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), LineCheck] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = Field(
        default=None, description="alamat surel notifikasi (null: hapus)"
    )


class TokenRequest(_Body):
    label: Annotated[str, StringConstraints(max_length=100)] = ""
    hari: int | None = Field(default=None, ge=1, le=3650, description="masa berlaku (hari); kosong = bawaan")


class CertificatePublic(BaseModel):
    sha256: str
    subject: str
    issuer: str = ""
    serial: str = ""
    not_after: datetime | None
    created_at: datetime


class PasswordReset(_Body):
    """An admin's password reset: the new password, or none to have one generated (shown once)."""

    password: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="kata sandi baru (10-256 karakter); kosong: dibuatkan sistem"
    )


class PasswordResetDone(BaseModel):
    password: str | None = Field(description="kata sandi yang dibuatkan sistem; hanya ditampilkan sekali")
    sesi_berakhir: int = Field(description="sesi peramban pengguna yang diakhiri")


class SessionPublic(BaseModel):
    """A signed-in browser (never its id or CSRF token)."""

    id: int
    username: str
    nama: str
    created_at: datetime
    last_seen_at: datetime
    ends_at: datetime = Field(description="berakhir paling lambat (batas diam atau batas umur sesi)")


class SessionsEnded(BaseModel):
    username: str
    sesi_berakhir: int


class SignerCertificatePublic(BaseModel):
    subject: str
    issuer: str
    serial: str
    not_after: datetime | None
    sha256: str
    source: str = Field(description="backend (dibaca dari token/berkas) atau terdaftar (UserCertificate)")
    state: str = Field(description="berlaku, segera (<= 30 hari), kedaluwarsa, tidak_diketahui")
    days_left: int | None


class SignerStatusPublic(BaseModel):
    username: str
    nama: str | None
    kind: str
    facts: dict[str, str]
    signer_id: str | None
    certificates: list[SignerCertificatePublic]
    note: str


class CertificateRequest(_Body):
    sha256: Annotated[str, StringConstraints(strip_whitespace=True, min_length=64, max_length=200)]


class DrafterRequest(_Body):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64)]


class DrafterPublic(BaseModel):
    username: str
    nama: str
    peran: str = Field(description="pemilik (penyusun awal) atau ditugaskan")


class PihakPublic(BaseModel):
    id: int
    urutan: int
    instansi: str
    kind: str
    alamat: str | None
    penandatangan_nama: str
    penandatangan_jabatan: str
    penandatangan_nip: str | None
    lambang_type: str | None = Field(default=None, description="image/png atau image/jpeg bila lambang sudah diunggah")
    lambang_sha256: str | None = None
    penandatangan_nik: str | None = None


class RevisionPublic(BaseModel):
    number: int
    source: str = Field(description="rendered (dari templat) atau uploaded (diunggah dari Word)")
    note: str
    author: str
    created_at: datetime
    docx_sha256: str
    docx_size: int
    docx_version_id: str | None
    pdf_sha256: str
    pdf_size: int
    pdf_pages: int
    pdf_version_id: str | None
    template_sha256: str | None
    docx_url: str
    pdf_url: str


class NaskahPublic(BaseModel):
    id: int
    kerja_sama_id: int
    jenis: str
    template: str
    status: str
    status_label: str
    lock_version: int
    parent_id: int | None
    nomor: dict[int, str] = Field(description="nomor naskah per urutan pihak")
    data: dict[str, Any]
    revision_count: int
    latest_revision: RevisionPublic | None
    available_actions: list[str] = Field(description="tindakan yang dapat Anda lakukan sekarang")
    drafters: list[str] = Field(default=[], description="penyusun naskah: pemilik lalu yang ditugaskan")


class CasePublic(BaseModel):
    id: int
    jenis: str
    judul: str
    objek: str
    manfaat: str
    bentuk: str
    tahun_anggaran_mulai: int
    mulai: date
    selesai: date
    opd_teknis: str
    created_at: datetime
    pihak: list[PihakPublic]
    naskah: list[NaskahPublic]


class CaseSummary(BaseModel):
    id: int
    jenis: str
    judul: str
    opd_teknis: str
    mulai: date
    selesai: date


class TemplateField(BaseModel):
    name: str
    type: str
    required: bool
    description: str
    items: list[TemplateField] = []
    choices: list[str] = Field(default=[], description="tipe choice: nilai yang boleh; yang pertama bawaan")


class TemplatePublic(BaseModel):
    name: str
    jenis: str
    title: str
    description: str
    serves: list[str]
    sha256: str
    fields: list[TemplateField]
    dasar_hukum_baku: dict[str, list[str]] = Field(
        default_factory=dict,
        description="dasar hukum yang dipakai per jenis kerja sama bila isian dasar_hukum dikosongkan",
    )


class RenderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(default_factory=dict, description="isian templat yang diubah; sisanya tetap")
    note: Note = Field(default="", description="catatan revisi")
    buang_suntingan_word: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="bila revisi terbaru diunggah dari Word: nomor revisi terbaru itu, tanda Anda setuju "
        "suntingan Word sejak revisi terakhir yang dirender dibuang (tanpa ini perenderan ditolak dengan "
        "daftar paragraf yang akan hilang)",
    )

    @field_validator("data")
    @classmethod
    def _data_size(cls, data: dict[str, Any]) -> dict[str, Any]:
        check_data_size(data)
        return data


class DiffHunk(BaseModel):
    op: str
    old_start: int
    new_start: int
    old: list[str]
    new: list[str]
    words: list[list[dict[str, str]]] | None = None


class DiffSpan(BaseModel):
    op: Literal["same", "removed", "added"] = Field(
        description="removed: hanya di kiri (<del>); added: hanya di kanan (<ins>)"
    )
    text: str = Field(description="potongan teks; semua potongan satu paragraf digabung = teks paragrafnya")


class DiffRow(BaseModel):
    kind: Literal["same", "changed", "added", "removed"]
    left: str | None = Field(description="paragraf revisi a (kiri); null untuk paragraf yang ditambahkan")
    right: str | None = Field(description="paragraf revisi b (kanan); null untuk paragraf yang dihapus")
    left_number: int | None = Field(description="urutan paragraf di revisi a")
    right_number: int | None = Field(description="urutan paragraf di revisi b")
    left_spans: list[DiffSpan]
    right_spans: list[DiffSpan]


class DiffPublic(BaseModel):
    naskah_id: int
    a: int
    b: int
    identical: bool
    counts: dict[str, int]
    changes: list[DiffHunk]
    unified: str
    rows: list[DiffRow] | None = Field(
        default=None,
        description="tampilan=berdampingan: setiap paragraf kedua revisi sejajar, yang berubah dengan kata-katanya",
    )
    row_counts: dict[str, int] | None = Field(
        default=None, description="jumlah baris per jenis (tampilan=berdampingan)"
    )


class PreviewPagePublic(BaseModel):
    number: int = Field(description="nomor halaman, mulai 1")
    width: int = Field(description="lebar gambar halaman (piksel)")
    height: int = Field(description="tinggi gambar halaman (piksel)")
    thumb_width: int
    thumb_height: int
    text: str = Field(description="teks halaman (untuk pembaca layar dan pencarian)")
    image_url: str = Field(description="gambar PNG halaman")
    thumb_url: str = Field(description="gambar PNG kecil halaman")
    etag: str


class PreviewPublic(BaseModel):
    naskah_id: int
    kind: str = Field(description="revisi, paraf, final, signed atau imported")
    label: str = Field(description="apa yang ditampilkan, mis. 'Revisi 2' atau 'PDF final (semua paraf)'")
    revision_number: int
    step: int = Field(description="urutan paraf atau tanda tangan yang menghasilkan berkas ini (0 untuk revisi)")
    sha256: str = Field(description="sha256 PDF yang ditampilkan")
    pdf_url: str = Field(description="PDF itu sendiri")
    count: int = Field(description="jumlah halaman PDF")
    rendered: int = Field(description="halaman yang tersedia sebagai gambar (NASKAH_PREVIEW_MAX_PAGES pertama)")
    truncated: bool
    dpi: int
    pages: list[PreviewPagePublic]


class NoteRequest(BaseModel):
    note: Note = Field(default="", description="catatan (wajib untuk pengembalian, penolakan, pembatalan)")


class EventPublic(BaseModel):
    action: str
    from_status: str
    to_status: str
    actor: str
    note: str
    revision_number: int | None
    created_at: datetime


class AuditEntryPublic(BaseModel):
    seq: int = Field(description="urutan di rantai audit (seluruh sistem)")
    at: datetime
    actor: str = Field(description="nama pengguna saat tindakan; 'system' untuk proses otomatis")
    action: str
    sha256: str | None = Field(description="sidik berkas yang dihasilkan atau disentuh tindakan ini")
    detail: dict[str, Any]
    prev_hash: str
    entry_hash: str = Field(description="sha256 entri ini, termasuk prev_hash: rantai hash")


class AuditListEntryPublic(AuditEntryPublic):
    """An entry of the whole trail: also which naskah or kerja sama it belongs to (None: neither)."""

    naskah_id: int | None
    kerja_sama_id: int | None


class ChainBreakPublic(BaseModel):
    seq: int = Field(description="entri pertama tempat rantai putus")
    problem: Literal["edited", "missing_predecessor", "out_of_order", "missing", "head_mismatch"]
    message: str = Field(description="apa yang salah, dalam bahasa Indonesia")


class ChainCheckPublic(BaseModel):
    ok: bool
    bottom_line: Literal["ok", "broken"]
    count: int = Field(description="entri yang diperiksa dan utuh")
    head_seq: int = Field(description="entri terakhir yang utuh")
    head_hash: str
    broken: ChainBreakPublic | None
    entry_seq: int | None = Field(
        description="entri jejak audit yang mencatat pemeriksaan ini (None: kepala rantai hilang, tidak tercatat)"
    )


class ParafPublic(BaseModel):
    urutan: int
    posisi: str
    nama: str
    jabatan: str
    singkatan: str
    inisial: str
    waktu: datetime
    revision_number: int
    revision_sha256: str
    file_sha256: str | None


class ParafStepPublic(BaseModel):
    urutan: int
    posisi: str
    jabatan: str
    singkatan: str
    status: str = Field(description="sudah (diberikan) atau menunggu")
    paraf: ParafPublic | None


class ParafChainPublic(BaseModel):
    naskah_id: int
    status: str
    steps: list[ParafStepPublic]
    final_pdf_sha256: str | None = Field(description="sidik PDF final (semua paraf) bila rantai sudah lengkap")


class SignatureStepPublic(BaseModel):
    urutan: int
    pihak_urutan: int
    field_name: str
    nama: str
    jabatan: str
    signer: str | None = Field(description="pengguna yang menandatangani di server; kosong = mitra (desk to desk)")
    external: bool
    status: str = Field(description="sudah atau menunggu")
    signed_at: datetime | None
    signer_subject: str | None
    file_sha256: str | None
    tanggal_ttd: date | None = Field(
        default=None,
        description="hari tanda tangan menurut zona waktu profil (mitra desk to desk: menurut cap waktunya)",
    )
    catatan_tanggal: str | None = Field(
        default=None, description="desk to desk pada hari lain dari tanggal naskah: catatan yang dikonfirmasi"
    )
    signed_field: str | None = Field(
        default=None,
        description="kolom yang memuat tanda tangan: kolom yang kami siapkan, atau kolom buatan perangkat lunak mitra "
        "(desk to desk) atau layanan seperti BSrE",
    )
    signed_page: int | None = Field(default=None, description="halaman (mulai 1) tempat tanda tangan mitra berada")
    signed_visible: bool | None = Field(default=None, description="tanda tangan mitra tampak pada halaman")


class SignaturePlanPublic(BaseModel):
    naskah_id: int
    mode: str
    tanggal_naskah: date | None = Field(
        default=None,
        description="tanggal penandatanganan yang dinyatakan naskah; tatap muka hanya pada tanggal ini",
    )
    final_pdf_sha256: str
    steps: list[SignatureStepPublic]
    next: int | None = Field(description="urutan langkah berikutnya; kosong bila lengkap")
    pades_level: str = Field(
        description="level PAdES yang wajib dicapai setiap tanda tangan naskah ini (NASKAH_PADES_LEVEL): B-LT = "
        "dengan cap waktu dan data validasi"
    )


class SignerPublic(BaseModel):
    """Which signer backend is configured for the current user: what to ask for at signing."""

    configured: bool = Field(description="ada penanda tangan yang dikonfigurasi admin; bila tidak, unggah PKCS#12")
    kind: str | None = Field(default=None, description="pkcs12, pkcs11, csc atau bsre")
    secret: str = Field(description="yang diminta saat menandatangani: passphrase, PIN atau OTP")
    backend: dict[str, Any] = Field(default_factory=dict, description="keterangan penanda tangan, tanpa rahasia")
    signer_id: str | None = Field(default=None, description="NIK/e-mail di layanan BSrE, disamarkan")
    registered: bool | None = Field(default=None, description="BSrE (check=true): terdaftar di layanan")
    has_certificate: bool | None = Field(default=None, description="BSrE (check=true): sertifikat aktif")


class ArsipVersionPublic(BaseModel):
    """One stored version of an archived original (``archive.RecordVersion``)."""

    version_id: str
    sha256: str
    size: int
    reason: str = Field(description="archive (diarsipkan) atau renew (pembaruan stempel waktu)")
    created_at: datetime
    timestamp_expiry: datetime | None = Field(description="sertifikat TSA stempel waktu terakhir berlaku sampai")
    lock_until: datetime = Field(description="terkunci (tidak dapat diubah atau dihapus) sampai")
    current: bool = Field(description="versi yang sekarang diserahkan sebagai naskah asli")


class ArsipPublic(BaseModel):
    """An archived original as the secretariat sees it."""

    id: int
    naskah_id: int
    kerja_sama_id: int
    jenis: str
    jenis_kerja_sama: str
    judul: str
    pihak: list[dict[str, Any]]
    nomor: dict[str, str]
    opd_teknis: str
    tanggal_ttd: date
    mulai: date
    selesai: date
    status_masa: str = Field(
        description="berlaku, segera_berakhir (dalam 90 hari) atau kedaluwarsa, pada hari ini (seperti saringan masa)"
    )
    related: list[dict[str, Any]] = Field(description="naskah terkait: KB ↔ PKS ↔ Surat Kuasa")
    sha256: str
    key: str
    version_id: str
    size: int
    retain_until: datetime
    timestamp_expiry: datetime | None
    archived_at: datetime


class EndingPublic(BaseModel):
    """An archived agreement that ends soon, or has ended (``kedaluwarsa``)."""

    arsip_id: int
    naskah_id: int
    jenis: str
    jenis_kerja_sama: str
    judul: str
    pihak: list[str] = Field(description="instansi tiap pihak, PIHAK KESATU lebih dulu")
    nomor: dict[str, str] = Field(description="nomor naskah tiap pihak, menurut urutan pihak")
    opd_teknis: str
    mulai: date
    selesai: date
    sisa_hari: int = Field(description="hari sampai tanggal selesai: 0 = hari terakhir, negatif = sudah berakhir")
    kedaluwarsa: bool
    status: str = Field(description="segera_berakhir atau kedaluwarsa")


class RenewalDuePublic(BaseModel):
    """An archived original whose last document timestamp must be renewed (``perbarui-cap-waktu``)."""

    arsip_id: int
    naskah_id: int
    jenis: str
    judul: str
    nomor: dict[str, str] = Field(description="nomor naskah tiap pihak, menurut urutan pihak")
    cap_waktu_berakhir: datetime | None = Field(
        description="kapan sertifikat TSA cap waktu dokumen terakhir berakhir (null: tidak diketahui)"
    )
    sisa_hari: int | None = Field(description="hari sampai saat itu; negatif = sudah lewat")
    terlambat: bool = Field(description="sudah lewat: rantai bukti arsip terputus sampai diperbarui")


class YearCountPublic(BaseModel):
    tahun: int = Field(description="tahun penandatanganan")
    jumlah: dict[str, int] = Field(description="per jenis kerja sama (KSDD, KSDPK, KSIV)")
    total: int


class EndingCountPublic(BaseModel):
    dalam_hari: int = Field(description="berakhir dalam sekian hari (kumulatif: 90 termasuk yang 30)")
    jumlah: dict[str, int] = Field(description="per jenis kerja sama (KSDD, KSDPK, KSIV)")
    total: int


class StepCountPublic(BaseModel):
    langkah: str = Field(description="status, atau paraf.<posisi>")
    label: str
    tepat_waktu: int
    terlambat: int
    total: int
    standar: str | None = Field(description="mutu baku waktu SOP (null: tidak ditetapkan)")


class StepDurationPublic(BaseModel):
    langkah: str
    label: str
    standar: str | None
    standar_menit: int | None
    jumlah: int = Field(description="langkah yang sudah selesai dan diukur")
    melebihi: int = Field(description="dari jumlah itu, yang selesai setelah tenggat mutu baku")
    rata_rata_menit: int
    rata_rata: str
    terlama_menit: int
    terlama: str


class RenewalCountPublic(BaseModel):
    kelompok: Literal["terlambat", "90", "365"] = Field(
        description="terlambat (sudah lewat atau tidak diketahui), 90 (dalam 90 hari), 365 (91–365 hari lagi)"
    )
    label: str
    jumlah: int


class DashboardPublic(BaseModel):
    """The monitoring dashboard's numbers (``pipeline.archival.dashboard``), only what the caller may see."""

    profil: str = Field(description="daerah yang SOP-nya menjadi ukuran mutu baku")
    per_tanggal: date
    per_tahun: list[YearCountPublic]
    berakhir: list[EndingCountPublic]
    proses: list[StepCountPublic]
    durasi: list[StepDurationPublic]
    cap_waktu: list[RenewalCountPublic]
    surel: MailHealthPublic | None = Field(
        default=None, description="antrean surel pemberitahuan: server SMTP yang mati terlihat di sini"
    )


class MailHealthPublic(BaseModel):
    """The notification outbox (``pipeline.inbox.notifications.mail_health``)."""

    antre: int = Field(description="surel yang belum terkirim")
    tertua: datetime | None = Field(description="kapan surel tertua yang masih antre dibuat")
    galat_terakhir: str | None = Field(description="galat pengiriman terakhir (server mati, alamat ditolak)")
    coba_lagi: datetime | None = Field(description="kapan surel yang gagal terakhir dicoba lagi")
    terkirim_24_jam: int
    gagal: int = Field(description="surel yang ditolak server untuk selamanya")
    server: str = Field(description="server SMTP (host:port, TLS) atau 'tidak dikonfigurasi'")
    bermasalah: bool = Field(description="ada surel antre dengan galat: periksa server SMTP")


class NotificationPublic(BaseModel):
    """One notification of my inbox: what it is about and the page to open; never a document."""

    id: int
    kind: str = Field(
        description="telaah, paraf, tanda_tangan, rencana_ttd, kirim_mitra, impor, arsip, "
        "dikembalikan, pengingat, ringkasan, keputusan, disposisi, usulan_telaah, usulan_rapat, monev_tugas, "
        "monev_laporan, monev_olah, monev_evaluasi, monev_arahan, monev_tindak_lanjut, monev_tutup, "
        "monev_tanpa_laporan, monev_perpanjangan, monev_tl_terlambat"
    )
    kind_label: str
    subject: str
    body_text: str
    link: str = Field(description="halaman aplikasi web (path)")
    naskah_id: int | None
    usulan_id: int | None = Field(default=None, description="usulan kerja sama (intake) yang dimaksud")
    monev_round_id: int | None = Field(default=None, description="monitoring dan evaluasi yang dimaksud")
    created_at: datetime
    read_at: datetime | None
    mail_status: str = Field(description="antre, terkirim, tidak_dikirim (surel dimatikan/tanpa alamat), gagal")
    sent_at: datetime | None


class NotificationsPublic(BaseModel):
    data: list[NotificationPublic]
    count: int
    unread: int = Field(description="jumlah yang belum dibaca (lencana di kepala halaman)")


class NotificationSettingsPublic(BaseModel):
    email: str | None = Field(description="alamat surel tercatat (diisi admin)")
    email_notifikasi: bool = Field(description="pemberitahuan juga dikirim lewat surel")


class NotificationSettingsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email_notifikasi: bool = Field(description="false: tidak ada surel lagi; kotak masuk di aplikasi tetap ada")


class WaitingPublic(BaseModel):
    """Where a naskah in progress waits, since when, against the SOP profile's standard time."""

    naskah_id: int
    kerja_sama_id: int
    jenis: str
    jenis_kerja_sama: str
    judul: str
    opd_teknis: str
    status: str
    langkah: str = Field(description="status, atau paraf.<posisi> untuk paraf berikutnya")
    keterangan: str
    menunggu: str = Field(description="giliran siapa: jabatan, penanda tangan berikutnya, penyusun, sekretariat")
    sejak: datetime = Field(description="awal langkah ini: peristiwa terakhir yang membawa naskah ke sini")
    lama_menit: int
    lama: str = Field(
        description="lama menunggu, mis. '2 hari 3 jam'; terhadap mutu baku dalam hari kerja hanya waktu kerja "
        "dihitung ('1 hari kerja 3 jam': tanpa akhir pekan, libur nasional dan cuti bersama)"
    )
    standar: str | None = Field(description="mutu baku waktu langkah ini menurut profil SOP (kosong: tidak ada)")
    standar_menit: int | None
    standar_dari: str | None = Field(description="kunci mutu_baku asal standar (mis. paraf.sekda)")
    tenggat: datetime | None
    terlambat: bool
    lewat_menit: int | None = Field(description="menit melewati tenggat (kosong bila belum terlambat)")
    lewat: str | None = Field(None, description="berapa lama melewati tenggat, dengan kata (jam yang sama dengan lama)")


class TaskPublic(BaseModel):
    """One naskah waiting on me ("Tugas saya"), with how long it has waited against the SOP's mutu baku."""

    tugas: str = Field(
        description="telaah, paraf, tanda_tangan, rencana_ttd, kirim_mitra, impor, arsip atau dikembalikan"
    )
    tugas_label: str
    tindakan: str = Field(
        description="langkah pipeline yang diambil: approve, paraf, sign, signature_plan, export, import_signed, "
        "archive, revise"
    )
    naskah_id: int
    kerja_sama_id: int
    jenis: str
    jenis_kerja_sama: str
    judul: str
    nomor: dict[str, str] = Field(description="nomor naskah per pihak ('1' = PIHAK KESATU)")
    status: str
    status_label: str
    langkah: str = Field(description="status, atau paraf.<posisi> untuk paraf berikutnya")
    keterangan: str = Field(description="apa yang perlu dilakukan")
    sejak: datetime = Field(description="awal langkah ini: peristiwa terakhir yang membawa naskah ke sini")
    lama_menit: int
    lama: str
    standar: str | None = Field(description="mutu baku waktu langkah ini menurut profil SOP (kosong: tidak ada)")
    standar_menit: int | None
    tenggat: datetime | None
    terlambat: bool
    lewat_menit: int | None
    lewat: str | None = None
    catatan: str | None = Field(description="catatan pengembalian Bagian Hukum atau alasan penolakan paraf")
    catatan_oleh: str | None
    catatan_pada: datetime | None
    detail: dict[str, Any] = Field(
        description="paraf: urutan, posisi; tanda tangan: pihak_urutan, desk, kuasa_naskah_id; desk: diekspor_pada"
    )


class TaskCounter(BaseModel):
    tugas: str
    label: str
    jumlah: int
    terlambat: int


class TasksPublic(BaseModel):
    """What waits on me: late first, then the longest waiting; counters for every kind, zeros included."""

    data: list[TaskPublic]
    count: int
    terlambat: int = Field(description="berapa tugas yang melewati mutu baku waktu")
    ringkasan: list[TaskCounter] = Field(description="jumlah per jenis tugas, semua jenis (juga yang nol)")


class PersonPublic(BaseModel):
    nama: str | None
    jabatan: str


class ProgressEventPublic(BaseModel):
    aksi: str
    label: str
    oleh: PersonPublic | None
    pada: datetime
    catatan: str | None


class ProgressStepPublic(BaseModel):
    """One step of a naskah's path."""

    kunci: str = Field(description="penyusunan, telaah, paraf.<posisi>, rencana_ttd, ttd.<pihak>, arsip")
    tahap: str = Field(description="penyusunan, telaah, paraf, rencana_ttd, tanda_tangan, arsip")
    label: str
    keadaan: str = Field(description="done, current, waiting, refused atau skipped")
    keadaan_label: str
    pelaku: list[PersonPublic] = Field(description="siapa yang bertugas pada langkah ini")
    oleh: PersonPublic | None = Field(description="siapa yang menyelesaikan (atau menolak) langkah ini")
    selesai_pada: datetime | None
    catatan: str | None
    standar: str | None = Field(description="mutu baku waktu langkah ini menurut profil SOP")
    standar_dari: str
    sejak: datetime | None = Field(description="langkah yang sedang berjalan: menunggu sejak")
    lama_menit: int | None
    lama: str | None
    tenggat: datetime | None
    terlambat: bool
    lewat_menit: int | None
    lewat: str | None = None
    giliran_saya: bool = Field(description="langkah ini menunggu saya dan pipeline akan menerimanya sekarang")
    riwayat: list[ProgressEventPublic]
    detail: dict[str, Any]


class ProgressPublic(BaseModel):
    """The whole path of a naskah: drafting, Bagian Hukum, each paraf, the plan, each signer, archive."""

    naskah_id: int
    kerja_sama_id: int
    jenis: str
    judul: str
    nomor: dict[str, str]
    status: str
    status_label: str
    langkah_sekarang: str | None
    giliran_saya: bool
    dibatalkan: ProgressEventPublic | None
    langkah: list[ProgressStepPublic]
