/** The pages' stylesheet, inlined with a CSP nonce (no files to serve, no build step). */
export const STYLES = `
:root{--bg:#f6f7f9;--fg:#1c2330;--muted:#6b7280;--line:#e3e6eb;--card:#fff;--accent:#3451b2;--danger:#b42318;
--ok:#067647;--warn:#b54708;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
*{box-sizing:border-box}body{margin:0}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header{display:flex;align-items:center;gap:24px;padding:10px 24px;background:#1c2330;color:#fff}
header .brand{font-weight:700;font-size:16px;color:#fff}
header nav a{color:#cbd5e1;margin-right:16px;padding:4px 0}header nav a.active{color:#fff;border-bottom:2px solid #8da2fb}
header .right{margin-left:auto;display:flex;gap:12px;align-items:center;font-size:12px;color:#cbd5e1}
main{padding:20px 24px;max-width:1400px}
h1{font-size:20px;margin:0 0 14px}h1 .mono{font-size:inherit}h2{font-size:15px;margin:22px 0 8px}.card>h2:first-child{margin-top:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin-bottom:16px}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);background:#fafbfc}
tr:last-child td{border-bottom:0}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:var(--muted)}.mono,pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#0f172a;color:#e2e8f0;padding:12px;border-radius:6px;overflow:auto;max-height:480px;margin:6px 0;white-space:pre-wrap;word-break:break-word}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#eef2f6;color:#344054}
.s-succeeded{background:#dcfae6;color:var(--ok)}.s-failed{background:#fee4e2;color:var(--danger)}
.s-running{background:#dbe4ff;color:var(--accent)}.s-paused{background:#fdf2fa;color:#c11574}
form.edit label{display:block;margin:.5rem 0}form.edit textarea,form.edit input{display:block;width:100%;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.s-retryable{background:#fef0c7;color:var(--warn)}
.s-cancelled{background:#f2f4f7;color:#475467}.s-scheduled{background:#f4ebff;color:#6941c6}.s-available{background:#d1f4fb;color:#0e7090}
.paused,.orphaned{background:#fef0c7;color:var(--warn)}
.btn{font:inherit;font-size:12.5px;padding:4px 10px;border:1px solid #c9ced6;border-radius:6px;background:#fff;color:var(--fg);cursor:pointer}
.btn:hover{background:#f2f4f7}.btn.danger{color:var(--danger);border-color:#f1b4ae}.btn.primary{background:var(--accent);color:#fff;border-color:var(--accent)}
header .btn{background:transparent;color:#cbd5e1;border-color:#475467}
form.inline{display:inline-block;margin:0 4px 0 0}
.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end}
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:3px}
.filters input,.filters select{font:inherit;padding:5px 7px;border:1px solid #c9ced6;border-radius:6px;background:#fff;min-width:120px}
.flash{padding:10px 14px;border-radius:8px;margin-bottom:14px;border:1px solid}
.flash.ok{background:#ecfdf3;border-color:#abefc6;color:var(--ok)}.flash.error{background:#fef3f2;border-color:#fecdca;color:var(--danger)}
dl.props{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0}dl.props dt{color:var(--muted)}dl.props dd{margin:0}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}@media (max-width:900px){.grid2{grid-template-columns:1fr}}
.pager{display:flex;gap:12px;margin-top:12px;align-items:center}
.actions{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:10px 0}
.attempt{border-left:3px solid var(--danger);padding:4px 0 4px 12px;margin:10px 0}
details summary{cursor:pointer;color:var(--muted)}
.zero{color:#c0c5cd}.nowrap{white-space:nowrap}
`
