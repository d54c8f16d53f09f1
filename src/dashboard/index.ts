export { dashboardCredentialsFromEnv } from './dashboard-auth';
export { startDashboard, type Dashboard } from './start-dashboard';
