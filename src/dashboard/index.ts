export { dashboardCredentialsFromEnv, type DashboardCredentials } from './dashboard-auth';
export { BOARD_PATH, startDashboard, type Dashboard, type DashboardOptions } from './start-dashboard';
