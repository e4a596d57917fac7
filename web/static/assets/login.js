// Sign-in page: the form posts the token to /login, which keeps it in an
// HttpOnly cookie and sends the browser back where it came from.
const next = new URLSearchParams(location.search).get('next') || '/';
// Only same-site paths: never bounce the user to another site.
document.getElementById('login-next').value = next.startsWith('/') && !next.startsWith('//') ? next : '/';
document.getElementById('login-token').focus();
