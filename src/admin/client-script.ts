/**
 * The pages' only script, inlined with a CSP nonce: live refresh of the `[data-live]` regions (a
 * fetch of the same URL every few seconds, paused by a button and while the tab is hidden) and
 * `confirm()` dialogs for forms with `data-confirm`.
 */
export const CLIENT_SCRIPT = `(() => {
  const root = document.documentElement
  const period = Number(root.dataset.refreshMs || 0)
  const toggle = document.getElementById('live-toggle')
  const key = 'conveyor-admin-live'
  let paused = false
  try { paused = localStorage.getItem(key) === 'paused' } catch {}
  const show = () => {
    if (!toggle) return
    toggle.textContent = paused ? 'Live refresh: paused' : 'Live refresh: on'
    toggle.setAttribute('aria-pressed', String(!paused))
  }
  let timer = 0
  const schedule = () => { clearTimeout(timer); if (period > 0 && !paused) timer = setTimeout(refresh, period) }
  async function refresh() {
    if (!document.hidden) {
      try {
        const response = await fetch(location.href, { headers: { 'x-conveyor-live': '1' }, cache: 'no-store', credentials: 'same-origin' })
        if (response.ok) {
          const doc = new DOMParser().parseFromString(await response.text(), 'text/html')
          for (const region of document.querySelectorAll('[data-live]')) {
            const fresh = doc.getElementById(region.id)
            if (fresh && !paused) region.replaceWith(document.importNode(fresh, true))
          }
          root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1)
        }
      } catch {}
    }
    schedule()
  }
  if (toggle) {
    toggle.hidden = period <= 0
    toggle.addEventListener('click', () => {
      paused = !paused
      try { localStorage.setItem(key, paused ? 'paused' : 'on') } catch {}
      show()
      schedule()
    })
  }
  show()
  schedule()
  document.addEventListener('submit', (event) => {
    const form = event.target
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); return }
    const field = form.querySelector('input[name="confirmed"]')
    if (field) field.value = '1'
  })
})()`
